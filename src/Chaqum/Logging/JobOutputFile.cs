using System.Buffers;

namespace Chaqum.Logging;

/// <summary>
/// One job's output file, FILE, and its previous half, FILE.1, with the per-job cap:
/// when FILE would grow past half the cap it becomes FILE.1 and a new FILE starts.
///
/// Output is kept in memory until the next flush (or until <see cref="MemoryLimit"/>),
/// and the halves are cut there first: a job printing 200 MB in a burst fills and
/// replaces hundreds of halves between two flushes, and only the last two of them are
/// ever written. Lines are kept as they came (the bytes of a read, and where each line
/// is in them) and formatted only when written: formatting every line of a flood, to
/// throw all but the last megabyte away, was a quarter of the daemon's time in it. The
/// length of a formatted line is known without formatting it (its head is fixed for a
/// batch), so the halves are cut exactly where they would be if every line had been
/// written at once.
///
/// Not thread-safe: the loop thread only.
/// </summary>
internal sealed class JobOutputFile : IDisposable
{
    /// <summary>Unwritten output of one job kept in memory at most (counted as written,
    /// formatted), before it is written even between flushes (with the default cap of
    /// 1 MiB both halves fit).</summary>
    public const int MemoryLimit = 1 << 20;

    /// <summary>A line in a batch's bytes, and the level whose head it gets.</summary>
    public readonly record struct LineRef(int Start, int Length, int Level);

    /// <summary>Lines as they came: text in Data, each written as Heads[level] + text + LF.
    /// Data and Lines are rented, and go back to the pool when no half holds a part of
    /// them: in a flood, batches live until the next flush, long enough for the GC to
    /// copy them to an older generation if they were ordinary arrays.</summary>
    private sealed class Batch(byte[] data, LineRef[] lines, byte[][] heads)
    {
        public byte[] Data => data;
        public LineRef[] Lines => lines;
        public byte[][] Heads => heads;
        public int Parts;

        public void Release()
        {
            if (--Parts > 0) return;
            ArrayPool<byte>.Shared.Return(data);
            ArrayPool<LineRef>.Shared.Return(lines);
        }
    }

    /// <summary>Lines [From, To) of a batch (a batch may be cut between two halves).</summary>
    private readonly record struct Part(Batch Batch, int From, int To);

    /// <summary>The lines of one half in memory, and their length once formatted.</summary>
    private sealed class Half
    {
        public readonly List<Part> Parts = new();
        public long Length;

        public void Add(Part part, long length)
        {
            part.Batch.Parts++;
            Parts.Add(part);
            Length += length;
        }

        /// <summary>The half is written or dropped: its batches may go back to the pool.</summary>
        public void Release()
        {
            foreach (var part in Parts) part.Batch.Release();
            Parts.Clear();
            Length = 0;
        }
    }

    private readonly long _half;
    private FileStream _stream;    // FILE, positioned at its end
    private long _onDisk;          // bytes of the current half already in FILE
    private Half _pending = new(); // the rest of the current half
    private Half? _held;           // a complete half that FILE.1 is to hold

    public JobOutputFile(string path, long cap)
    {
        Path = path;
        _half = cap / 2;
        _stream = Open(path);
        _onDisk = _stream.Length;
    }

    public string Path { get; }
    /// <summary>How many of the job's streams (stdout, stderr) are still open.</summary>
    public int OpenStreams { get; set; } = 2;
    public bool HasUnwritten => _pending.Length > 0 || _held is not null;
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
        // No FileStream buffer: a whole half is formatted and written at once.
        var stream = new FileStream(path, Options(FileMode.OpenOrCreate));
        stream.Seek(0, SeekOrigin.End);
        return stream;
    }

    /// <summary>Adds count lines whose text is in data (kept, not copied: the caller hands
    /// over data and lines, both rented from ArrayPool.Shared). heads[level] goes before
    /// each line's text, and must not change after. A line that does not fit in the
    /// current half starts the next one.</summary>
    public void Add(byte[] data, LineRef[] lines, int count, byte[][] heads)
    {
        var batch = new Batch(data, lines, heads);
        int i = 0;
        while (i < count)
        {
            // The lines that fit in the current half (at least one: if that one does not
            // fit, it starts the next half, as when lines were written one by one).
            long room = _half - _onDisk - _pending.Length, bytes = 0;
            int end = i;
            for (; end < count; end++)
            {
                long length = heads[lines[end].Level].Length + lines[end].Length + 1;
                if (end > i && bytes + length > room) break;
                bytes += length;
            }
            if (bytes > room) Rotate();
            _pending.Add(new Part(batch, i, end), bytes);
            i = end;
            if (_pending.Length + (_held?.Length ?? 0) >= MemoryLimit) Write();
        }
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
        _held?.Release();
        _held = _pending;
        _pending = new Half();
    }

    /// <summary>Writes what is in memory: the held half to FILE.1, the rest to FILE.</summary>
    public void Write()
    {
        if (_held is not null)
        {
            string previous = Path + ".1", temporary = Path + ".1.new";
            using (var s = new FileStream(temporary, Options(FileMode.Create)))
                WriteFormatted(s, _held);
            File.Move(temporary, previous, overwrite: true);
            _held.Release();
            _held = null;
            // FILE holds nothing of the current half (an older one, or nothing at all).
            _stream.SetLength(0);
            _onDisk = 0;
        }
        if (_pending.Length > 0)
        {
            WriteFormatted(_stream, _pending);
            _onDisk += _pending.Length;
            _pending.Release();
        }
    }

    /// <summary>Formats a half's lines into one buffer and writes it.</summary>
    private static void WriteFormatted(FileStream to, Half half)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)half.Length);
        try
        {
            int n = 0;
            foreach (var (batch, from, end) in half.Parts)
            {
                for (int i = from; i < end; i++)
                {
                    var line = batch.Lines[i];
                    var head = batch.Heads[line.Level];
                    head.CopyTo(buffer, n);
                    n += head.Length;
                    Buffer.BlockCopy(batch.Data, line.Start, buffer, n, line.Length);
                    n += line.Length;
                    buffer[n++] = (byte)'\n';
                }
            }
            to.Write(buffer, 0, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Drops what is unwritten (after a write error, so as not to retry it forever).</summary>
    public void Discard()
    {
        _pending.Release();
        _held?.Release();
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
            _stream.Dispose();
        }
    }
}
