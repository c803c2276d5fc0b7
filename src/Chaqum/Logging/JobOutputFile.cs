using System.Buffers;

namespace Chaqum.Logging;

/// <summary>
/// One job's output file, FILE, and its previous half, FILE.1, with the per-job cap:
/// when FILE would grow past half the cap it becomes FILE.1 and a new FILE starts.
///
/// Output is kept in memory until the next flush (or until <see cref="MemoryLimit"/>),
/// and the halves are cut there first: a job printing 200 MB in a burst fills and
/// replaces hundreds of halves between two flushes, and only the last two of them are
/// ever written. Before this, every byte went to disk to be deleted a moment later, and
/// that, not the daemon log, was most of the cost of a chatty job.
///
/// On disk the same two files result as when everything was written at once: a half
/// that is complete in memory is written to FILE.1 (through a temporary file and a
/// rename), and FILE then holds the rest. Not thread-safe: the loop thread only.
/// </summary>
internal sealed class JobOutputFile : IDisposable
{
    /// <summary>Unwritten output of one job kept in memory at most, before it is written
    /// even between flushes (with the default cap of 1 MiB both halves fit).</summary>
    public const int MemoryLimit = 1 << 20;

    private readonly long _half;
    private FileStream _stream;    // FILE, positioned at its end
    private long _onDisk;          // bytes of the current half already in FILE
    private byte[] _pending;       // the rest of the current half
    private int _pendingLength;
    private byte[]? _held;         // a complete half that FILE.1 is to hold
    private int _heldLength;

    public JobOutputFile(string path, long cap)
    {
        Path = path;
        _half = cap / 2;
        _stream = Open(path);
        _onDisk = _stream.Length;
        _pending = ArrayPool<byte>.Shared.Rent(4096);
    }

    public string Path { get; }
    /// <summary>How many of the job's streams (stdout, stderr) are still open.</summary>
    public int OpenStreams { get; set; } = 2;
    public bool HasUnwritten => _pendingLength > 0 || _held is not null;
    /// <summary>Opened before the last write error: its writes succeeding do not show
    /// that writing works again (see JobOutputFiles).</summary>
    public bool OpenedBeforeTrouble { get; set; }

    /// <summary>No FileStream buffer; created 0600 (job output is the job's business),
    /// whatever the daemon's umask.</summary>
    private static FileStreamOptions Options(FileMode mode) => new()
    {
        Mode = mode,
        Access = FileAccess.Write,
        Share = FileShare.Read | FileShare.Delete,
        BufferSize = 0,
        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
    };

    private static FileStream Open(string path)
    {
        // No FileStream buffer: whole runs of lines are written at once from _pending.
        var stream = new FileStream(path, Options(FileMode.OpenOrCreate));
        stream.Seek(0, SeekOrigin.End);
        return stream;
    }

    /// <summary>Room for one line of exactly `length` bytes, to be filled and then
    /// <see cref="Commit"/>ted. Starts a new half first if the line would not fit.</summary>
    public Span<byte> Reserve(int length)
    {
        if (_onDisk + _pendingLength + length > _half) Rotate();
        if (_pendingLength + length > _pending.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_pending.Length * 2, _pendingLength + length));
            _pending.AsSpan(0, _pendingLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = bigger;
        }
        return _pending.AsSpan(_pendingLength, length);
    }

    public void Commit(int length)
    {
        _pendingLength += length;
        if (_pendingLength + (_held is null ? 0 : _heldLength) >= MemoryLimit) Write();
    }

    /// <summary>The current half is full: it becomes the previous one.</summary>
    private void Rotate()
    {
        if (_onDisk > 0)
        {
            // Part of the current half is in FILE already: finish it there and rename,
            // as the file has always been rotated.
            Write();
            _stream.Dispose();
            File.Move(Path, Path + ".1", overwrite: true);
            _stream = Open(Path);
            _onDisk = 0;
            return;
        }
        // All of it is in memory: it is the half FILE.1 will hold, and the one held so
        // far (never written) is simply dropped, as FILE.1 would have been replaced.
        var spare = _held;
        _held = _pending;
        _heldLength = _pendingLength;
        _pending = spare ?? ArrayPool<byte>.Shared.Rent(4096);
        _pendingLength = 0;
    }

    /// <summary>Writes what is in memory: the held half to FILE.1, the rest to FILE.</summary>
    public void Write()
    {
        if (_held is not null)
        {
            string previous = Path + ".1", temporary = Path + ".1.new";
            using (var s = new FileStream(temporary, Options(FileMode.Create)))
                s.Write(_held, 0, _heldLength);
            File.Move(temporary, previous, overwrite: true);
            ArrayPool<byte>.Shared.Return(_held);
            _held = null;
            // FILE holds nothing of the current half (an older one, or nothing at all).
            _stream.SetLength(0);
            _onDisk = 0;
        }
        if (_pendingLength > 0)
        {
            _stream.Write(_pending, 0, _pendingLength);
            _onDisk += _pendingLength;
            _pendingLength = 0;
        }
        // After a burst, give the big buffer back rather than keep it for a quiet job.
        if (_pending.Length > 64 * 1024)
        {
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = ArrayPool<byte>.Shared.Rent(4096);
        }
    }

    /// <summary>Drops what is unwritten (after a write error, so as not to retry it forever).</summary>
    public void Discard()
    {
        _pendingLength = 0;
        if (_held is not null) ArrayPool<byte>.Shared.Return(_held);
        _held = null;
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { Write(); }
        finally
        {
            Discard();
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = Array.Empty<byte>();
            _stream.Dispose();
        }
    }
}
