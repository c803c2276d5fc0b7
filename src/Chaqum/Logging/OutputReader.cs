using Chaqum.EventLoop;
using Chaqum.Scheduling;
using Mono.Unix.Native;

namespace Chaqum.Logging;

/// <summary>
/// Reads one of a job's output pipes and hands its lines to the output, all the complete
/// lines of one read in one batch (<see cref="OutputLines"/>): a job may print millions
/// of short lines a second, and per-line overhead is what would hold it up. A line longer
/// than <see cref="MaxLine"/> is logged in pieces, and output without a final newline is
/// logged at end of file, so memory stays bounded and nothing is lost. The reader
/// outlives the job if a stray grandchild still holds the pipe; it closes at EOF.
/// </summary>
public sealed class OutputReader : IReadyHandler
{
    public const int MaxLine = 16 * 1024;

    /// <summary>A pipe holds 64 KiB unless resized: one read takes it all.</summary>
    private const int ReadSize = 64 * 1024;

    // All readers run on the loop thread: one scratch buffer and one batch serve them all.
    [ThreadStatic] private static byte[]? t_scratch;
    [ThreadStatic] private static OutputLines? t_lines;

    private readonly EpollLoop _loop;
    private readonly Job _job;
    private readonly OutputStream _stream;
    private readonly IJobOutput _output;
    private readonly int _fd;
    private readonly long _token;
    private byte[]? _partial;
    private int _partialLength;

    public OutputReader(EpollLoop loop, Job job, OutputStream stream, int fd, IJobOutput output)
    {
        _loop = loop;
        _job = job;
        _stream = stream;
        _fd = fd;
        _output = output;
        _token = loop.Add(fd, EpollEvents.EPOLLIN, this);
    }

    public bool Closed { get; private set; }

    /// <summary>Readable (level-triggered): a few reads, so one chatty job cannot hog the
    /// loop; a short read means the pipe is empty, and epoll says when it is not.</summary>
    public void OnReady(EpollEvents events) => Drain(maxReads: 16, stopWhenShort: true);

    /// <summary>Reads what is there (up to maxReads chunks); closes at end of file.</summary>
    public unsafe void Drain(int maxReads = int.MaxValue, bool stopWhenShort = false)
    {
        var scratch = t_scratch ??= GC.AllocateUninitializedArray<byte>(ReadSize);
        for (int reads = 0; reads < maxReads && !Closed; reads++)
        {
            long n;
            fixed (byte* p = scratch) n = Syscall.read(_fd, p, (ulong)scratch.Length);
            if (n > 0)
            {
                Consume(scratch, (int)n);
                if (stopWhenShort && n < scratch.Length) return;
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

    private void Consume(byte[] data, int length)
    {
        int pos = 0;
        if (_partialLength > 0)
        {
            // Finish the line the previous read left open.
            int lf = data.AsSpan(0, length).IndexOf((byte)'\n');
            if (lf < 0)
            {
                AppendPartial(data.AsSpan(0, length));
                return;
            }
            AppendPartial(data.AsSpan(0, lf));
            if (_partialLength > 0) EmitPartial();
            pos = lf + 1;
        }

        int last = data.AsSpan(pos, length - pos).LastIndexOf((byte)'\n');
        if (last >= 0)
        {
            int end = pos + last + 1; // the complete lines are data[pos..end)
            EmitLines(data, pos, end);
            pos = end;
        }
        if (pos < length) AppendPartial(data.AsSpan(pos, length - pos));
    }

    /// <summary>Hands the complete lines in data[from..to) (each ending in LF) to the output.</summary>
    private void EmitLines(byte[] data, int from, int to)
    {
        var lines = t_lines ??= new OutputLines();
        lines.Start(data, _loop.Clock.WallNow);
        bool clean = OutputLines.AllClean(data.AsSpan(from, to - from));
        var span = data.AsSpan();
        int start = from;
        while (start < to)
        {
            int length = span[start..to].IndexOf((byte)'\n');
            if (lines.Count + length / MaxLine + 1 > OutputLines.MaxCount)
            {
                _output.Lines(_job, _stream, lines);
                lines.Start(data, lines.Time);
            }
            lines.Add(start, length, _stream, MaxLine, clean);
            start += length + 1;
        }
        if (lines.Count > 0) _output.Lines(_job, _stream, lines);
    }

    private void AppendPartial(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            _partial ??= new byte[256];
            if (_partialLength == MaxLine)
            {
                // An over-long line: log what we have as one piece and go on.
                EmitPartial();
            }
            if (_partialLength + data.Length > _partial.Length && _partial.Length < MaxLine)
                Array.Resize(ref _partial, Math.Min(MaxLine, Math.Max(_partial.Length * 2, _partialLength + data.Length)));
            int take = Math.Min(data.Length, _partial.Length - _partialLength);
            data[..take].CopyTo(_partial.AsSpan(_partialLength));
            _partialLength += take;
            data = data[take..];
        }
    }

    /// <summary>Logs the partial buffer as one line and empties it.</summary>
    private void EmitPartial()
    {
        var lines = t_lines ??= new OutputLines();
        lines.Start(_partial!, _loop.Clock.WallNow);
        lines.Add(0, _partialLength, _stream, MaxLine, knownClean: false);
        _partialLength = 0;
        _output.Lines(_job, _stream, lines);
    }

    private void Close()
    {
        if (Closed) return;
        Closed = true;
        if (_partialLength > 0) EmitPartial();
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
