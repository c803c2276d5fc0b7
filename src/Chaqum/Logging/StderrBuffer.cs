using System.Text;
using Mono.Unix.Native;

namespace Chaqum.Logging;

/// <summary>
/// The daemon's stderr (its log), written in batches. Installed as Console.Error, so
/// Serilog's console sink writes through it, and job output lines are copied into the
/// same buffer by <see cref="JobOutputStderr"/>: one buffer keeps everything in order.
///
/// The event loop thread defers its writes while it handles a batch of events and
/// flushes once before it waits again (<see cref="Deferring"/>): a spawn logs "started"
/// and "exited", a read of job output logs hundreds of lines, and each of those was a
/// write(2) of its own. Any other thread's write goes out at once, with whatever was
/// before it. So at most one turn of the loop is lost if the process dies in the middle
/// of one; an orderly exit loses nothing.
/// </summary>
public sealed class StderrBuffer : TextWriter
{
    private const int Fd = 2;
    /// <summary>Deferred output beyond this is written at once anyway.</summary>
    private const int FlushAt = 256 * 1024;

    [ThreadStatic] private static bool t_deferring;

    private readonly object _gate = new();
    private byte[] _buffer = new byte[FlushAt + 64 * 1024];
    private int _length;

    private StderrBuffer() { }

    /// <summary>The buffer Console.Error writes to, once installed.</summary>
    public static StderrBuffer? Installed { get; private set; }

    /// <summary>Routes Console.Error (and so Serilog's console sink) through the buffer.</summary>
    public static StderrBuffer Install()
    {
        if (Installed is { } installed) return installed;
        var buffer = new StderrBuffer();
        Console.SetError(buffer);
        return Installed = buffer;
    }

    /// <summary>Set by the event loop while it handles events: its writes wait until it
    /// sets this back, which flushes them.</summary>
    public static bool Deferring
    {
        get => t_deferring;
        set
        {
            t_deferring = value;
            if (!value) Installed?.Flush();
        }
    }

    public override Encoding Encoding { get; } = new UTF8Encoding(false);

    public override void Write(char value) => Write(new ReadOnlySpan<char>(in value));

    public override void Write(string? value) => Write(value.AsSpan());

    public override void Write(char[] buffer, int index, int count) => Write(buffer.AsSpan(index, count));

    public override void Write(ReadOnlySpan<char> chars)
    {
        lock (_gate)
        {
            var room = Reserve(Encoding.GetMaxByteCount(chars.Length));
            Commit(Encoding.GetBytes(chars, room));
        }
        Written();
    }

    /// <summary>For bulk writers: hold Gate, Reserve room for at most n bytes, fill it,
    /// Commit what was used, and call Written after releasing Gate.</summary>
    internal object Gate => _gate;

    internal Span<byte> Reserve(int bytes)
    {
        if (_length + bytes > _buffer.Length)
        {
            WriteOut();
            if (bytes > _buffer.Length) _buffer = new byte[bytes];
        }
        return _buffer.AsSpan(_length, bytes);
    }

    internal void Commit(int bytes) => _length += bytes;

    internal void Written()
    {
        if (!t_deferring || _length >= FlushAt) Flush();
    }

    public override void Flush()
    {
        if (t_deferring && _length < FlushAt) return;
        lock (_gate) WriteOut();
    }

    /// <summary>Writes the buffer out. stderr gone (EPIPE) or failing: the lines are
    /// dropped, as a console writer would drop them.</summary>
    private unsafe void WriteOut()
    {
        int done = 0;
        fixed (byte* p = _buffer)
        {
            while (done < _length)
            {
                long n = Syscall.write(Fd, p + done, (ulong)(_length - done));
                if (n > 0) { done += (int)n; continue; }
                var errno = Stdlib.GetLastError();
                if (errno == Errno.EINTR) continue;
                if (errno == Errno.EAGAIN)
                {
                    // A non-blocking stderr (shared with someone who set O_NONBLOCK): wait.
                    var poll = new[] { new Pollfd { fd = Fd, events = PollEvents.POLLOUT } };
                    Syscall.poll(poll, 1, -1);
                    continue;
                }
                break;
            }
        }
        _length = 0;
    }
}
