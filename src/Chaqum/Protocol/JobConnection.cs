using System.Text;
using Chaqum.EventLoop;
using Chaqum.Native;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Mono.Unix.Native;

namespace Chaqum.Protocol;

/// <summary>
/// One job's end of the protocol: reads command lines from the job's fd 3 (our cmdFd) and
/// writes replies to its fd 4 (our replyFd). Commands are handled strictly one at a time,
/// in order: while one is in progress (a wait, say) nothing more is read, so the pipe
/// itself holds later commands and applies back-pressure. The same happens while a reply
/// cannot be written because the job does not read fd 4: memory stays bounded by one line
/// buffer and one pending reply per connection.
///
/// Both descriptors are non-blocking. The command pipe is watched only while we want more
/// input (see Arm), so a pipe whose writers are gone (HUP) cannot spin the loop while a
/// command is in progress.
/// </summary>
public sealed class JobConnection
{
    /// <summary>Longest accepted command line, without its LF.</summary>
    public const int MaxLine = 64 * 1024;

    private readonly EventLoop.EventLoop _loop;
    private readonly Dispatcher _dispatcher;
    private readonly ILogger _log;
    private readonly int _cmdFd;
    private readonly int _replyFd;
    private readonly long _cmdToken;
    private long _replyToken;

    private byte[] _buf = new byte[512];
    private int _start, _end;         // unread bytes are _buf[_start.._end)
    private bool _discarding;         // skipping the rest of an over-long line
    private bool _eof;
    private bool _closed;
    private bool _replyGone;          // nobody reads fd 4 any more (EPIPE)
    private bool _jobExited;

    private CommandCall? _current;    // the command in progress, if any
    private Payload? _payload;        // sendmsg bytes still to read

    private byte[]? _out;             // reply bytes not yet written
    private int _outPos;

    private sealed class Payload(CommandCall call, byte[] data, long discard)
    {
        public CommandCall Call { get; } = call;
        public byte[] Data { get; } = data;
        public int Filled;
        public long Discard = discard;  // bytes to skip when the message is refused
    }

    public JobConnection(EventLoop.EventLoop loop, Job job, int cmdFd, int replyFd, Dispatcher dispatcher, ILogger log)
    {
        _loop = loop;
        Job = job;
        _cmdFd = cmdFd;
        _replyFd = replyFd;
        _dispatcher = dispatcher;
        _log = log;
        _cmdToken = loop.Add(cmdFd, EpollEvents.EPOLLIN, new Ready(_ => Pump()));
    }

    /// <summary>The job whose descriptors these are: every command acts as this job.</summary>
    public Job Job { get; }
    public bool Closed => _closed;
    public bool Busy => _current is not null;

    private sealed class Ready(Action<EpollEvents> action) : IReadyHandler
    {
        public void OnReady(EpollEvents events) => action(events);
    }

    /// <summary>Handles buffered and readable commands until one is in progress, a reply
    /// is blocked, or the pipe is empty (then waits for more).</summary>
    public void Pump()
    {
        if (_pumping) return; // a command completed synchronously inside the loop below
        _pumping = true;
        try { PumpTurn(); }
        finally { _pumping = false; }
        AbandonIfOrphaned();
        // Listen for more only while we would read it; see Arm.
        if (!_closed) Arm(_current is null && _out is null);
    }

    private bool _pumping;

    /// <summary>
    /// The command pipe is watched level-triggered while we want input, and not at all
    /// while a command is in progress or a reply is blocked (then the pipe itself holds
    /// whatever the job sends next). A round trip (the reply path, docs/performance.md)
    /// so costs epoll_wait, read and write: no re-arming, and no read that only says
    /// EAGAIN, since a read that did not fill the buffer has emptied the pipe. Disarmed is
    /// EPOLLONESHOT without EPOLLIN: a hang-up is reported at most once, not in a loop.
    /// </summary>
    private void Arm(bool listen)
    {
        if (listen == _armed) return;
        _armed = listen;
        _loop.Modify(_cmdFd, listen ? EpollEvents.EPOLLIN : EpollEvents.EPOLLONESHOT, _cmdToken);
    }

    private bool _armed = true;
    private bool _drained;            // the last read did not fill the buffer: the pipe is empty

    /// <summary>Commands handled in one go before other jobs, timers and the control socket
    /// get their turn: a job that keeps its pipe full (pipelined commands, each maybe a
    /// spawn) must not hold the event loop for seconds. What a job wrote before exiting
    /// still runs all at once, before its end is recorded.</summary>
    private const int CommandsPerTurn = 32;
    private bool _continuing;
    private Action? _continue;

    private void PumpTurn()
    {
        _drained = false;
        int budget = _jobExited ? int.MaxValue : CommandsPerTurn;
        while (!_closed && _current is null && _out is null)
        {
            if (TakeBuffered())
            {
                if (--budget > 0) continue;
                ContinueLater();
                return;
            }
            if (_eof) { Finish(); return; }
            if (!Fill()) return;
        }
    }

    private void ContinueLater()
    {
        if (_continuing) return;
        _continuing = true;
        _loop.Post(_continue ??= () => { _continuing = false; Pump(); });
    }

    /// <summary>A job that has exited cannot read the answer to a command that waits (a
    /// wait, a recvmsg): once nobody else holds its fd 3 either, each such command is
    /// abandoned in turn, and the ones after it still run.</summary>
    private void AbandonIfOrphaned()
    {
        while (_jobExited && _current is not null && !_closed && !_pumping && AtEof())
        {
            var call = _current;
            _current = null;
            call.Cancel();
            _log.LogDebug("{Job}: {Command} abandoned: the job has exited", Job.Id, call.Verb);
            _pumping = true;
            try { PumpTurn(); }
            finally { _pumping = false; }
        }
    }

    /// <summary>Reads more bytes; false when nothing is available now. Unless told to
    /// make sure, a read that came back short is taken to have emptied the pipe.</summary>
    private unsafe bool Fill(bool makeSure = false)
    {
        if (_drained && !makeSure) return false;
        if (_payload is { Discard: 0 } direct && _end == _start && direct.Filled < direct.Data.Length)
        {
            // Large message body: read straight into its buffer.
            fixed (byte* p = &direct.Data[direct.Filled])
            {
                int wanted = direct.Data.Length - direct.Filled;
                long n = Syscall.read(_cmdFd, p, (ulong)wanted);
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
            long n = Syscall.read(_cmdFd, p, (ulong)wanted);
            if (n > 0) { _end += (int)n; _drained = n < wanted; return true; }
            return ReadEnded(n);
        }
    }

    private bool ReadEnded(long n)
    {
        if (n == 0) { _eof = true; return true; }
        var errno = Stdlib.GetLastError();
        if (errno == Mono.Unix.Native.Errno.EINTR) return true;
        if (errno == Mono.Unix.Native.Errno.EAGAIN) return false;
        _log.LogWarning("{Job}: reading commands failed: {Errno}", Job.Id, errno);
        _eof = true;
        return true;
    }

    /// <summary>Consumes what the buffer holds: message bytes, a discarded tail, or one
    /// complete line. False when more input is needed.</summary>
    private bool TakeBuffered()
    {
        if (_payload is { } payload) return TakePayload(payload);

        var span = _buf.AsSpan(_start, _end - _start);
        int lf = span.IndexOf((byte)'\n');
        if (_discarding)
        {
            if (lf < 0) { _start = _end; return false; }
            _start += lf + 1;
            _discarding = false;
            return true;
        }
        if (lf < 0)
        {
            if (span.Length > MaxLine)
            {
                _start = _end;
                _discarding = true;
                Refuse(null, $"line longer than {MaxLine} bytes");
                return true;
            }
            if (_eof && span.Length > 0)
            {
                _log.LogWarning("{Job}: fd 3 closed in the middle of a command ({Bytes} bytes dropped)", Job.Id, span.Length);
                _start = _end;
            }
            return false;
        }
        var line = span[..lf];
        _start += lf + 1;
        if (line.Length > MaxLine)
        {
            Refuse(null, $"line longer than {MaxLine} bytes");
            return true;
        }
        HandleLine(line);
        return true;
    }

    private void HandleLine(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IndexOf((byte)0) >= 0) { Refuse(bytes, "command contains a NUL byte"); return; }
        string line;
        try { line = Strict.GetString(bytes); }
        catch (DecoderFallbackException) { Refuse(bytes, "command is not valid UTF-8"); return; }
        _dispatcher.Dispatch(this, line);
    }

    private static readonly UTF8Encoding Strict = new(false, true);

    private bool TakePayload(Payload payload)
    {
        int available = _end - _start;
        if (payload.Discard > 0)
        {
            int skip = (int)Math.Min(payload.Discard, available);
            _start += skip;
            payload.Discard -= skip;
            if (payload.Discard > 0) return false;
        }
        else if (payload.Filled < payload.Data.Length)
        {
            int take = Math.Min(payload.Data.Length - payload.Filled, available);
            Buffer.BlockCopy(_buf, _start, payload.Data, payload.Filled, take);
            payload.Filled += take;
            _start += take;
            if (payload.Filled < payload.Data.Length) return false;
        }
        if (_start == _end) return false;  // need the terminating LF

        _payload = null;
        bool terminated = _buf[_start] == (byte)'\n';
        if (terminated) _start++;
        else _discarding = true;           // resynchronise at the next LF
        var call = payload.Call;
        if (call.PayloadRefusal is { } refusal) call.Refuse(refusal);
        else if (!terminated) call.Refuse($"message of {payload.Data.Length} bytes not followed by LF");
        else _dispatcher.RunWithPayload(call, payload.Data);
        return true;
    }

    /// <summary>Called by the dispatcher for sendmsg: the next `length` bytes and a LF are
    /// the message. With a refusal, they are skipped and the refusal is the reply.</summary>
    internal void ExpectPayload(CommandCall call, long length, string? refusal)
    {
        call.PayloadRefusal = refusal;
        _payload = refusal is null
            ? new Payload(call, new byte[length], 0)
            : new Payload(call, Array.Empty<byte>(), length);
    }

    internal bool ExpectingPayload => _payload is not null;

    internal void Begin(CommandCall call) => _current = call;

    /// <summary>Writes a command's reply and moves on to the next command.</summary>
    internal void Complete(CommandCall call, byte[] reply)
    {
        if (!ReferenceEquals(_current, call) && _current is not null) return;
        _current = null;
        Write(reply);
        Pump();
    }

    internal void Refuse(ReadOnlySpan<byte> line, string reason)
    {
        // A reason may quote the job's own words (an unknown verb, an option letter, a
        // key), and $'...' lets a word hold a newline: shown raw, it would split the reply
        // in two and forge a line in the log. Control characters become '?'.
        reason = Logging.OneLineProperties.OneLine(reason);
        string shown = line.IsEmpty ? "" : $" '{Printable(line)}'";
        _log.LogWarning("{Job}: refused{Line}: {Reason}", Job.Id, shown, reason);
        Write(Encoding.UTF8.GetBytes($"E {reason}\n"));
    }

    private static string Printable(ReadOnlySpan<byte> line)
    {
        var text = Encoding.UTF8.GetString(line.Length > 200 ? line[..200] : line);
        var sb = new StringBuilder(text.Length);
        foreach (char c in text) sb.Append(c < 0x20 || c == 0x7f ? '?' : c);
        if (line.Length > 200) sb.Append("...");
        return sb.ToString();
    }

    private unsafe void Write(byte[] data)
    {
        if (_closed || _replyGone) return;
        if (_out is not null)
        {
            // Only one command is in progress at a time, so this is rare (a refusal
            // racing a blocked reply); keep order by appending.
            var merged = new byte[_out.Length - _outPos + data.Length];
            Buffer.BlockCopy(_out, _outPos, merged, 0, _out.Length - _outPos);
            Buffer.BlockCopy(data, 0, merged, _out.Length - _outPos, data.Length);
            _out = merged;
            _outPos = 0;
            return;
        }
        int pos = 0;
        while (pos < data.Length)
        {
            long n;
            fixed (byte* p = &data[pos]) n = Syscall.write(_replyFd, p, (ulong)(data.Length - pos));
            if (n > 0) { pos += (int)n; continue; }
            var errno = Stdlib.GetLastError();
            if (errno == Mono.Unix.Native.Errno.EINTR) continue;
            if (errno == Mono.Unix.Native.Errno.EAGAIN)
            {
                _out = data;
                _outPos = pos;
                if (_replyToken == 0)
                    _replyToken = _loop.Add(_replyFd, EpollEvents.EPOLLOUT | EpollEvents.EPOLLONESHOT, new Ready(_ => Flush()));
                else
                    _loop.Modify(_replyFd, EpollEvents.EPOLLOUT | EpollEvents.EPOLLONESHOT, _replyToken);
                return;
            }
            // EPIPE: the job (and everyone holding its fd 4) is gone; replies are moot.
            _replyGone = true;
            return;
        }
    }

    private void Flush()
    {
        var data = _out;
        if (data is null) return;
        _out = null;
        var rest = _outPos == 0 ? data : data[_outPos..];
        _outPos = 0;
        Write(rest);
        if (_out is null) Pump();
    }

    /// <summary>The job's process has exited. Commands it left in the pipe still run (a
    /// job may enqueue and exit without reading the reply); a command that can only
    /// complete later is abandoned once nobody can send more (fd 3 at EOF).</summary>
    public void JobExited()
    {
        _jobExited = true;
        Pump();
    }

    /// <summary>While a command is in progress nothing is read; to learn whether anyone can
    /// still send (a grandchild holding fd 3), read ahead into the buffer without handling.</summary>
    private bool AtEof()
    {
        while (!_eof)
        {
            if (_end == _buf.Length && _start == 0 && _buf.Length > MaxLine) return false;
            if (!Fill(makeSure: true)) return false;
        }
        return true;
    }

    private void AbandonCurrent()
    {
        var call = _current!;
        _current = null;
        call.Cancel();
        _log.LogDebug("{Job}: {Command} abandoned: the job has exited", Job.Id, call.Verb);
        Pump();
    }

    private void Finish()
    {
        if (_payload is not null)
        {
            _log.LogWarning("{Job}: fd 3 closed in the middle of a sendmsg; message dropped", Job.Id);
            _payload = null;
        }
        if (_current is not null)
        {
            if (_jobExited) AbandonCurrent();
            return;
        }
        Close();
    }

    public void Close()
    {
        if (_closed) return;
        _closed = true;
        var call = _current;
        _current = null;
        call?.Cancel();
        _loop.Remove(_cmdFd, _cmdToken);
        if (_replyToken != 0) _loop.Remove(_replyFd, _replyToken);
        Syscall.close(_cmdFd);
        Syscall.close(_replyFd);
        _out = null;
    }
}
