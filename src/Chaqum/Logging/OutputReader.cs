using Chaqum.EventLoop;
using Chaqum.Scheduling;
using Mono.Unix.Native;

namespace Chaqum.Logging;

/// <summary>
/// Reads one of a job's output pipes and turns it into one log event per line. A line
/// longer than <see cref="MaxLine"/> is logged in pieces, and output without a final
/// newline is logged at end of file, so memory stays bounded and nothing is lost. The
/// reader outlives the job if a stray grandchild still holds the pipe; it closes at EOF.
/// </summary>
public sealed class OutputReader : IReadyHandler
{
    public const int MaxLine = 16 * 1024;

    // All readers run on the loop thread: one scratch buffer serves them all.
    [ThreadStatic] private static byte[]? t_scratch;

    private readonly EventLoop.EventLoop _loop;
    private readonly Job _job;
    private readonly OutputStream _stream;
    private readonly IJobOutput _output;
    private readonly int _fd;
    private readonly long _token;
    private byte[]? _partial;
    private int _partialLength;

    public OutputReader(EventLoop.EventLoop loop, Job job, OutputStream stream, int fd, IJobOutput output)
    {
        _loop = loop;
        _job = job;
        _stream = stream;
        _fd = fd;
        _output = output;
        _token = loop.Add(fd, EpollEvents.EPOLLIN, this);
    }

    public bool Closed { get; private set; }

    public void OnReady(EpollEvents events) => Drain(maxReads: 16);

    /// <summary>Reads what is there (up to maxReads chunks, so one chatty job cannot hog
    /// the loop); closes at end of file.</summary>
    public unsafe void Drain(int maxReads = int.MaxValue)
    {
        var scratch = t_scratch ??= new byte[64 * 1024];
        for (int reads = 0; reads < maxReads && !Closed; reads++)
        {
            long n;
            fixed (byte* p = scratch) n = Syscall.read(_fd, p, (ulong)scratch.Length);
            if (n > 0)
            {
                Consume(scratch.AsSpan(0, (int)n));
                continue;
            }
            if (n < 0)
            {
                var errno = Stdlib.GetLastError();
                if (errno == Errno.EINTR) continue;
                if (errno == Errno.EAGAIN) return;
            }
            Close();
        }
    }

    private void Consume(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int lf = data.IndexOf((byte)'\n');
            if (lf < 0)
            {
                AppendPartial(data);
                return;
            }
            if (_partialLength > 0)
            {
                AppendPartial(data[..lf]);
                Emit(_partial.AsSpan(0, _partialLength));
                _partialLength = 0;
            }
            else
            {
                Emit(data[..lf]);
            }
            data = data[(lf + 1)..];
        }
    }

    private void AppendPartial(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            _partial ??= new byte[256];
            if (_partialLength == MaxLine)
            {
                // An over-long line: log what we have as one piece and go on.
                Emit(_partial.AsSpan(0, _partialLength));
                _partialLength = 0;
            }
            if (_partialLength + data.Length > _partial.Length && _partial.Length < MaxLine)
                Array.Resize(ref _partial, Math.Min(MaxLine, Math.Max(_partial.Length * 2, _partialLength + data.Length)));
            int take = Math.Min(data.Length, _partial.Length - _partialLength);
            data[..take].CopyTo(_partial.AsSpan(_partialLength));
            _partialLength += take;
            data = data[take..];
        }
    }

    private void Emit(ReadOnlySpan<byte> line)
    {
        // An over-long line is logged in pieces of at most MaxLine bytes.
        while (line.Length > MaxLine)
        {
            EmitOne(line[..MaxLine]);
            line = line[MaxLine..];
        }
        EmitOne(line);
    }

    private void EmitOne(ReadOnlySpan<byte> line)
    {
        if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
        var level = LevelPrefix.Parse(ref line, _stream);
        _output.Line(_job, _stream, level, OutputText.Decode(line));
    }

    private void Close()
    {
        if (Closed) return;
        Closed = true;
        if (_partialLength > 0)
        {
            Emit(_partial.AsSpan(0, _partialLength));
            _partialLength = 0;
        }
        _partial = null;
        _loop.Remove(_fd, _token);
        Syscall.close(_fd);
        _output.Closed(_job, _stream);
    }

    /// <summary>Daemon shutdown: read what is left, then close.</summary>
    public void Shutdown()
    {
        Drain(maxReads: 64);
        Close();
    }
}
