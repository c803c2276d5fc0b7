using Chaqum.EventLoop;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Mono.Unix.Native;

namespace Chaqum.Protocol;

/// <summary>What <see cref="CommandReader.Take"/> found in the bytes read so far.</summary>
internal enum CommandInput
{
    /// <summary>Nothing complete yet: read more (or the input has ended).</summary>
    NeedMore,
    /// <summary>One command line, without its LF.</summary>
    Line,
    /// <summary>A line longer than <see cref="CommandReader.MaxLine"/>: dropped, up to its LF.</summary>
    LineTooLong,
    /// <summary>The message body asked for, followed by its LF.</summary>
    Payload,
    /// <summary>The body (or the skipped body) was not followed by LF: the rest of that line
    /// is dropped so that reading resynchronises at the next LF.</summary>
    PayloadUnterminated,
}

/// <summary>
/// The reading half of a job's connection: the job's fd 3 (our end non-blocking), framed
/// into command lines and, after a sendmsg line, the message body. Memory stays bounded
/// by one line buffer (at most <see cref="MaxLine"/> bytes and the LF) and one body.
///
/// The pipe is watched only while the connection wants more input (see Listen), so a
/// pipe whose writers are gone (HUP) cannot spin the loop while a command is in progress.
/// </summary>
internal sealed class CommandReader
{
    /// <summary>Longest accepted command line, without its LF.</summary>
    public const int MaxLine = 64 * 1024;

    private readonly EpollLoop _loop;
    private readonly Job _job;
    private readonly ILogger _log;
    private readonly int _fd;
    private readonly long _token;

    private byte[] _buf = new byte[512];
    private int _start, _end;         // unread bytes are _buf[_start.._end)
    private bool _discarding;         // skipping the rest of an over-long line
    private bool _drained;            // the last read did not fill the buffer: the pipe is empty
    private bool _listening = true;
    private Payload? _payload;        // sendmsg bytes still to read

    private sealed class Payload(byte[] data, long discard)
    {
        public byte[] Data { get; } = data;
        public int Filled;
        public long Discard = discard;  // bytes to skip when the message is refused
    }

    public CommandReader(EpollLoop loop, Job job, int fd, IReadyHandler onReadable, ILogger log)
    {
        _loop = loop;
        _job = job;
        _fd = fd;
        _log = log;
        _token = loop.Add(fd, EpollEvents.EPOLLIN, onReadable);
    }

    /// <summary>No writer holds fd 3 any more (or reading it failed).</summary>
    public bool Eof { get; private set; }

    /// <summary>
    /// The pipe is watched level-triggered while we want input, and not at all while a
    /// command is in progress or a reply is blocked (then the pipe itself holds whatever
    /// the job sends next). A round trip (the reply path, docs/performance.md) so costs
    /// epoll_wait, read and write: no re-arming, and no read that only says EAGAIN, since a
    /// read that did not fill the buffer has emptied the pipe. Not listening is
    /// EPOLLONESHOT without EPOLLIN: a hang-up is reported at most once, not in a loop.
    /// </summary>
    public void Listen(bool listen)
    {
        if (listen == _listening) return;
        _listening = listen;
        _loop.Modify(_fd, listen ? EpollEvents.EPOLLIN : EpollEvents.EPOLLONESHOT, _token);
    }

    /// <summary>Starts a new turn of reading: the pipe may hold more since the last one.</summary>
    public void NewTurn() => _drained = false;

    /// <summary>Reads more bytes; false when nothing is available now. Unless told to
    /// make sure, a read that came back short is taken to have emptied the pipe.</summary>
    public unsafe bool Fill(bool makeSure = false)
    {
        if (_drained && !makeSure) return false;
        if (_payload is { Discard: 0 } direct && _end == _start && direct.Filled < direct.Data.Length)
        {
            // Large message body: read straight into its buffer.
            fixed (byte* p = &direct.Data[direct.Filled])
            {
                int wanted = direct.Data.Length - direct.Filled;
                long n = Syscall.read(_fd, p, (ulong)wanted);
                if (n > 0) { direct.Filled += (int)n; _drained = n < wanted; return true; }
                return ReadEnded(n);
            }
        }

        if (_start > 0 && _start == _end) _start = _end = 0;
        if (_end == _buf.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else
            {
                Array.Resize(ref _buf, Math.Min(_buf.Length * 2, MaxLine + 1));
            }
        }
        fixed (byte* p = &_buf[_end])
        {
            int wanted = _buf.Length - _end;
            long n = Syscall.read(_fd, p, (ulong)wanted);
            if (n > 0) { _end += (int)n; _drained = n < wanted; return true; }
            return ReadEnded(n);
        }
    }

    private bool ReadEnded(long n)
    {
        if (n == 0) { Eof = true; return true; }
        var errno = Stdlib.GetLastError();
        if (errno == Mono.Unix.Native.Errno.EINTR) return true;
        if (errno == Mono.Unix.Native.Errno.EAGAIN) return false;
        _log.LogWarning("{Job}: reading commands failed: {Errno}", _job.Id, errno);
        Eof = true;
        return true;
    }

    /// <summary>Consumes what the buffer holds: message bytes, a discarded tail, or one
    /// complete line (handed out in <paramref name="line"/>, valid until the next read).
    /// A finished body is handed out in <paramref name="payload"/> (empty when skipped).</summary>
    public CommandInput Take(out ReadOnlySpan<byte> line, out byte[] payload)
    {
        line = default;
        payload = Array.Empty<byte>();
        if (_payload is { } pending) return TakePayload(pending, out payload);

        var span = _buf.AsSpan(_start, _end - _start);
        int lf = span.IndexOf((byte)'\n');
        if (_discarding)
        {
            if (lf < 0) { _start = _end; return CommandInput.NeedMore; }
            _start += lf + 1;
            _discarding = false;
            return Take(out line, out payload);
        }
        if (lf < 0)
        {
            if (span.Length > MaxLine)
            {
                _start = _end;
                _discarding = true;
                return CommandInput.LineTooLong;
            }
            if (Eof && span.Length > 0)
            {
                _log.LogWarning("{Job}: fd 3 closed in the middle of a command ({Bytes} bytes dropped)", _job.Id, span.Length);
                _start = _end;
            }
            return CommandInput.NeedMore;
        }
        line = span[..lf];
        _start += lf + 1;
        return line.Length > MaxLine ? CommandInput.LineTooLong : CommandInput.Line;
    }

    private CommandInput TakePayload(Payload payload, out byte[] data)
    {
        data = payload.Data;
        int available = _end - _start;
        if (payload.Discard > 0)
        {
            int skip = (int)Math.Min(payload.Discard, available);
            _start += skip;
            payload.Discard -= skip;
            if (payload.Discard > 0) return CommandInput.NeedMore;
        }
        else if (payload.Filled < payload.Data.Length)
        {
            int take = Math.Min(payload.Data.Length - payload.Filled, available);
            Buffer.BlockCopy(_buf, _start, payload.Data, payload.Filled, take);
            payload.Filled += take;
            _start += take;
            if (payload.Filled < payload.Data.Length) return CommandInput.NeedMore;
        }
        if (_start == _end) return CommandInput.NeedMore;  // need the terminating LF

        _payload = null;
        if (_buf[_start] == (byte)'\n')
        {
            _start++;
            return CommandInput.Payload;
        }
        _discarding = true;           // resynchronise at the next LF
        return CommandInput.PayloadUnterminated;
    }

    /// <summary>The next `length` bytes and a LF are a message body: read into one array,
    /// or, when the message is refused anyway, skipped.</summary>
    public void ExpectPayload(long length, bool skip) =>
        _payload = skip ? new Payload(Array.Empty<byte>(), length) : new Payload(new byte[length], 0);

    /// <summary>Forgets a body still expected (fd 3 closed in its middle).</summary>
    public void DropPayload() => _payload = null;

    /// <summary>While a command is in progress nothing is taken; to learn whether anyone can
    /// still send (a grandchild holding fd 3), read ahead into the buffer without taking.</summary>
    public bool AtEof()
    {
        while (!Eof)
        {
            if (_end == _buf.Length && _start == 0 && _buf.Length > MaxLine) return false;
            if (!Fill(makeSure: true)) return false;
        }
        return true;
    }

    public void Close()
    {
        _loop.Remove(_fd, _token);
        Syscall.close(_fd);
    }
}
