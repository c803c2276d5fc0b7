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
/// before it.
///
/// When a job floods its output, the loop fills this buffer faster than small writes
/// would suit: a full buffer (or 64 KiB or more at the end of a turn) is handed to a
/// writer thread, and the loop goes on filling a second buffer while the first is
/// written, so reading the job's pipe and writing the log use both cores. There is at
/// most one buffer in flight; every other write waits for it first, so the order is
/// always the order of writing. So at most a turn of the loop and the buffer in flight
/// are lost if the process dies in the middle of one; an orderly exit loses nothing
/// (<see cref="Drain"/> runs at process exit).
/// </summary>
public sealed class StderrBuffer : TextWriter
{
    private const int Fd = 2;
    /// <summary>Deferred output beyond this is written at once anyway (by the writer).</summary>
    private const int FlushAt = 256 * 1024;
    /// <summary>At the end of a turn, this much or more goes to the writer; less is
    /// written by the loop itself (a thread hand-off costs more than a small write).</summary>
    private const int HandOffAt = 64 * 1024;

    [ThreadStatic] private static bool t_deferring;

    private readonly object _gate = new();
    private byte[] _buffer = new byte[FlushAt + 64 * 1024];
    private int _length;

    // The buffer being written by the writer thread, and the one it gives back.
    private byte[]? _outgoing;
    private int _outgoingLength;
    private byte[]? _spare;
    // Events that spin a little before blocking: in a flood the hand-offs come every
    // few hundred microseconds, and a sleep and wake-up each time cost more (measured:
    // SemaphoreSlim and non-spinning events were both slower).
    private readonly ManualResetEventSlim _idle = new(true);
    private readonly ManualResetEventSlim _ready = new(false);
    private Thread? _writer;

    private StderrBuffer() { }

    /// <summary>The buffer Console.Error writes to, once installed.</summary>
    public static StderrBuffer? Installed { get; private set; }

    /// <summary>Routes Console.Error (and so Serilog's console sink) through the buffer.</summary>
    public static StderrBuffer Install()
    {
        if (Installed is { } installed) return installed;
        var buffer = new StderrBuffer();
        Console.SetError(buffer);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => buffer.Drain();
        return Installed = buffer;
    }

    /// <summary>Writes everything still buffered or in flight, and waits for it. Never
    /// blocks an exit for long: a thread stuck holding the buffer loses its lines.</summary>
    public void Drain()
    {
        if (!Monitor.TryEnter(_gate, TimeSpan.FromSeconds(5))) return;
        try { WriteOut(); }
        finally { Monitor.Exit(_gate); }
    }

    /// <summary>Set by the event loop while it handles events: its writes wait until it
    /// sets this back, which flushes them.</summary>
    public static bool Deferring
    {
        get => t_deferring;
        set
        {
            t_deferring = value;
            LoopThread ??= value ? Thread.CurrentThread : null;
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
            if (Thread.CurrentThread == LoopThread) HandOff();
            else WriteOut();
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
        lock (_gate)
        {
            // The loop thread hands a big buffer to the writer (t_deferring: mid-turn,
            // full; LoopThread: end of turn); anyone else writes at once.
            if (_length >= (t_deferring ? FlushAt : HandOffAt) && Thread.CurrentThread == LoopThread) HandOff();
            else WriteOut();
        }
    }

    /// <summary>The thread that defers (the event loop); set the first time it does.</summary>
    private static Thread? LoopThread;

    /// <summary>Gives the filled buffer to the writer thread and takes the spare one.
    /// Waits for the previous hand-off to be written first. Caller holds the gate.</summary>
    private void HandOff()
    {
        _idle.Wait();
        _outgoing = _buffer;
        _outgoingLength = _length;
        _buffer = _spare ?? new byte[_buffer.Length];
        _spare = null;
        _length = 0;
        _idle.Reset();
        if (_writer is null)
        {
            _writer = new Thread(WriteHandedOff) { Name = "chaqum-log", IsBackground = true };
            _writer.Start();
        }
        _ready.Set();
    }

    private void WriteHandedOff()
    {
        while (true)
        {
            _ready.Wait();
            _ready.Reset();
            WriteAll(_outgoing!, _outgoingLength);
            _spare = _outgoing;
            _outgoing = null;
            _idle.Set();
        }
    }

    /// <summary>Writes the buffer out. stderr gone (EPIPE) or failing: the lines are
    /// dropped, as a console writer would drop them.</summary>
    private void WriteOut()
    {
        _idle.Wait(); // what was handed off goes first
        WriteAll(_buffer, _length);
        _length = 0;
    }

    private static unsafe void WriteAll(byte[] buffer, int length)
    {
        int done = 0;
        fixed (byte* p = buffer)
        {
            while (done < length)
            {
                long n = Syscall.write(Fd, p + done, (ulong)(length - done));
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
    }
}
