using System.Buffers;
using System.Globalization;
using System.Text;
using Chaqum.EventLoop;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Logging;

/// <summary>One line of a job's output, as kept for chaqumctl.</summary>
public readonly record struct OutputLine(DateTimeOffset Time, OutputStream Stream, LogLevel Level, string Text)
{
    public string StreamWord => Stream == OutputStream.Stdout ? "out" : "err";

    /// <summary>The time at the start of a line in an output file.</summary>
    public const string TimeFormat = "yyyy-MM-ddTHH:mm:ss.fffzzz";

    /// <summary>"2026-11-22T05:03:53.449+00:00 out INF text": one line in an output file.</summary>
    public string Format() =>
        $"{Time.ToString(TimeFormat, CultureInfo.InvariantCulture)} {StreamWord} {LevelWord(Level)} {Text}";

    /// <summary>The level's word, the same everywhere an operator reads one: the daemon
    /// log (Serilog's {Level:u3}), the output files, chaqumctl log and its JSON.</summary>
    public static string LevelWord(LogLevel level) => level switch
    {
        LogLevel.Critical => "FTL",
        LogLevel.Error => "ERR",
        LogLevel.Warning => "WRN",
        LogLevel.Information => "INF",
        LogLevel.Debug => "DBG",
        _ => "VRB",
    };

    public static OutputLine? Parse(string line)
    {
        var parts = line.Split(' ', 4);
        if (parts.Length < 3 || !DateTimeOffset.TryParse(parts[0], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)) return null;
        var level = parts[2] switch
        {
            // CRT: files written before the daemon log's word was used here too.
            "FTL" or "CRT" => LogLevel.Critical, "ERR" => LogLevel.Error, "WRN" => LogLevel.Warning,
            "DBG" => LogLevel.Debug, _ => LogLevel.Information,
        };
        return new OutputLine(time, parts[1] == "err" ? OutputStream.Stderr : OutputStream.Stdout, level, parts.Length > 3 ? parts[3] : "");
    }
}

/// <summary>
/// Keeps every job's output in a file of its own under STATE_DIR/output (both streams,
/// marked), for chaqumctl log and show. Each job's output is capped: when its file
/// reaches half the cap it becomes FILE.1 (replacing the previous one) and a new file is
/// started, so at most the cap is kept, always the newest output (<see cref="JobOutputFile"/>,
/// which also applies the cap in memory before writing). Files of jobs that ended long
/// ago, or beyond a total size, are removed oldest first. Writes are buffered and flushed
/// a few times a second; live readers (log -f) get lines as they come.
/// </summary>
public sealed class JobOutputFiles : IJobOutput, IDisposable
{
    private static readonly TimeSpan FlushEvery = TimeSpan.FromMilliseconds(250);
    /// <summary>How soon after a job's output closes the retention is applied again: a
    /// daemon that runs for months must not only prune when it starts.</summary>
    public static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);
    private readonly string _dir;
    private readonly long _capPerJob;
    private readonly long _totalCap;
    private readonly TimeSpan _retention;
    private readonly ITimers _timers;
    private readonly ILogger _log;
    private readonly Dictionary<Job, JobOutputFile> _open = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, List<Follower>> _followers = new(StringComparer.Ordinal);

    /// <summary>Who follows a job's new lines: Take gets each line; while Full says so,
    /// lines are only counted for it (Missed), never made: a reader that has fallen behind
    /// a job that floods its output costs the daemon nothing per line.</summary>
    private sealed record Follower(Action<OutputLine> Take, Func<bool>? Full, Action<long>? Missed)
    {
        public bool HasRoom(long lines)
        {
            if (Full?.Invoke() != true) return true;
            Missed?.Invoke(lines);
            return false;
        }
    }
    private ITimerHandle? _flushTimer;
    private ITimerHandle? _pruneTimer;
    private string? _lastError;

    private byte[][]? _heads;
    private long _headsMillis;
    private OutputStream _headsStream;

    public JobOutputFiles(string stateDir, long capPerJob, long totalCap, TimeSpan retention, ITimers timers, ILogger log)
    {
        _dir = Path.Combine(stateDir, "output");
        _capPerJob = capPerJob;
        _totalCap = totalCap;
        _retention = retention;
        _timers = timers;
        _log = log;
        Directory.CreateDirectory(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Directory_ => _dir;

    /// <summary>The file of a job id: '/' and '%' escaped so every id is one flat name.</summary>
    public static string FileName(string jobId) => jobId.Replace("%", "%25").Replace("/", "%2F") + ".log";

    public string PathOf(string jobId) => Path.Combine(_dir, FileName(jobId));

    public void Line(Job job, OutputStream stream, LogLevel level, string text)
    {
        var line = new OutputLine(DateTimeOffset.Now, stream, level, text);
        if (_followers.TryGetValue(job.Id, out var followers))
            foreach (var f in followers.ToArray())
                if (f.HasRoom(1)) f.Take(line);
        if (_capPerJob <= 0) return;
        try
        {
            var file = Open(job);
            if (file is null) return;
            var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
            var refs = ArrayPool<JobOutputFile.LineRef>.Shared.Rent(1);
            refs[0] = new(0, Encoding.UTF8.GetBytes(text, bytes), (int)level);
            file.Add(bytes, refs, 1, Heads(line.Time, stream));
            _flushTimer ??= _timers.After(FlushEvery, FlushAll);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Failed(job, e.Message);
        }
    }

    /// <summary>Many lines at once: kept as they came, formatted as
    /// <see cref="OutputLine.Format"/> does only when written (see <see cref="JobOutputFile"/>).</summary>
    public void Lines(Job job, OutputStream stream, OutputLines lines)
    {
        if (lines.Count == 0) return;
        if (_followers.TryGetValue(job.Id, out var followers))
        {
            foreach (var f in followers.ToArray())
                for (int i = 0; i < lines.Count && f.HasRoom(lines.Count - i); i++)
                    f.Take(new OutputLine(lines.Time, stream, lines[i].Level, lines.Text(i)));
        }
        if (_capPerJob <= 0) return;
        try
        {
            var file = Open(job);
            if (file is null) return;
            file.Add(Keep(lines, out var refs), refs, lines.Count, Heads(lines.Time, stream));
            _flushTimer ??= _timers.After(FlushEvery, FlushAll);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Failed(job, e.Message);
        }
    }

    /// <summary>The batch's lines for the file to keep: one copy of the bytes they span
    /// (escaped text appended for lines that need it) and where each line is in it, both
    /// rented (the file returns them).</summary>
    private static byte[] Keep(OutputLines lines, out JobOutputFile.LineRef[] refs)
    {
        refs = ArrayPool<JobOutputFile.LineRef>.Shared.Rent(lines.Count);
        int from = lines[0].Start, to = lines[lines.Count - 1].Start + lines[lines.Count - 1].Length;
        List<byte[]>? escaped = null;
        int extra = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            if (lines[i].Clean) continue;
            var text = Encoding.UTF8.GetBytes(lines.Text(i));
            (escaped ??= new()).Add(text);
            extra += text.Length;
        }
        var data = ArrayPool<byte>.Shared.Rent(to - from + extra);
        lines.Data.AsSpan(from, to - from).CopyTo(data);
        int at = to - from, e = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.Clean)
            {
                refs[i] = new(line.Start - from, line.Length, (int)line.Level);
                continue;
            }
            var text = escaped![e++];
            text.CopyTo(data, at);
            refs[i] = new(at, text.Length, (int)line.Level);
            at += text.Length;
        }
        return data;
    }

    /// <summary>"2026-11-22T05:03:53.449+00:00 out INF " for each level, for a time (to the
    /// millisecond) and stream: what precedes a line's text in its file. A new array when
    /// they change, since files keep the heads of the lines they hold.</summary>
    private byte[][] Heads(DateTimeOffset time, OutputStream stream)
    {
        long millis = time.Ticks / TimeSpan.TicksPerMillisecond;
        if (_heads is not null && millis == _headsMillis && stream == _headsStream) return _heads;
        Span<byte> prefix = stackalloc byte[64];
        time.TryFormat(prefix, out int n, OutputLine.TimeFormat, CultureInfo.InvariantCulture);
        prefix[n++] = (byte)' ';
        (stream == OutputStream.Stdout ? "out "u8 : "err "u8).CopyTo(prefix[n..]);
        prefix = prefix[..(n + 4)];
        var heads = new byte[7][];
        for (int level = 0; level < heads.Length; level++)
            heads[level] = [.. prefix, .. Encoding.ASCII.GetBytes(OutputLine.LevelWord((LogLevel)level)), (byte)' '];
        _headsMillis = millis;
        _headsStream = stream;
        return _heads = heads;
    }

    public void Closed(Job job, OutputStream stream)
    {
        if (!_open.TryGetValue(job, out var file)) return;
        if (--file.OpenStreams > 0) return;
        _open.Remove(job);
        try
        {
            file.Dispose();
            Wrote(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Problem(e.Message); }
        _pruneTimer ??= _timers.After(PruneEvery, () =>
        {
            _pruneTimer = null;
            Prune();
        });
    }

    private JobOutputFile? Open(Job job)
    {
        if (_open.TryGetValue(job, out var file)) return file;
        file = new JobOutputFile(PathOf(job.Id), _capPerJob);
        _open[job] = file;
        return file;
    }

    /// <summary>Writing failed: say so (once per kind of error) and drop what could not be
    /// written, so that memory stays bounded while the disk is full.</summary>
    private void Failed(Job job, string message)
    {
        if (_open.TryGetValue(job, out var file)) file.Discard();
        Problem(message);
    }

    private void FlushAll()
    {
        _flushTimer = null;
        foreach (var (job, file) in _open)
        {
            if (!file.HasUnwritten) continue;
            try
            {
                file.Write();
                Wrote(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Failed(job, e.Message); }
        }
    }

    /// <summary>A write succeeded: writing works again, if that file was opened since the
    /// trouble began. A file opened before it says nothing: writing to it still works when
    /// new files cannot be created (a directory made read-only), and a file created since
    /// proves little until written to (a full disk).</summary>
    private void Wrote(JobOutputFile file)
    {
        if (!file.OpenedBeforeTrouble) Recovered();
    }

    /// <summary>Makes what a job wrote so far readable from its file.</summary>
    public void Flush(string jobId)
    {
        foreach (var (job, file) in _open)
            if (job.Id == jobId && file.HasUnwritten)
            {
                try { file.Write(); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Failed(job, e.Message); }
            }
    }

    /// <summary>The last `count` lines a job wrote (from its files).</summary>
    public List<OutputLine> Tail(string jobId, int count)
    {
        Flush(jobId);
        return ReadTail(PathOf(jobId), count);
    }

    public static List<OutputLine> ReadTail(string path, int count)
    {
        var lines = new List<string>();
        foreach (var p in new[] { path + ".1", path })
        {
            try
            {
                using var s = new FileStream(p, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var r = new StreamReader(s, Encoding.UTF8);
                while (r.ReadLine() is { } l) lines.Add(l);
            }
            catch (FileNotFoundException) { }
            catch (DirectoryNotFoundException) { }
        }
        var tail = count >= 0 && lines.Count > count ? lines.Skip(lines.Count - count) : lines;
        return tail.Select(OutputLine.Parse).Where(l => l is not null).Select(l => l!.Value).ToList();
    }

    /// <summary>Calls back with each new line of the job (on the loop thread) until disposed;
    /// while full() is true, only tells missed(N) how many lines went by.</summary>
    public IDisposable Follow(string jobId, Action<OutputLine> onLine, Func<bool>? full = null, Action<long>? missed = null)
    {
        if (!_followers.TryGetValue(jobId, out var list)) _followers[jobId] = list = new();
        var follower = new Follower(onLine, full, missed);
        list.Add(follower);
        return new Unfollow(() =>
        {
            list.Remove(follower);
            if (list.Count == 0) _followers.Remove(jobId);
        });
    }

    private sealed class Unfollow(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    /// <summary>Removes output of jobs that ended more than the retention ago, then the
    /// oldest files while the total is above its cap.</summary>
    public void Prune()
    {
        try
        {
            var inUse = _open.Values.Select(f => f.Path).ToHashSet();
            // Only the files we name (JOB.log and its older half JOB.log.1): anything else an
            // operator put there is not ours to delete.
            var files = new DirectoryInfo(_dir).GetFiles()
                .Where(f => f.Name.EndsWith(".log", StringComparison.Ordinal) || f.Name.EndsWith(".log.1", StringComparison.Ordinal))
                .Where(f => !inUse.Contains(f.FullName.TrimEnd('1').TrimEnd('.')))
                .OrderBy(f => f.LastWriteTimeUtc).ToList();
            var cutoff = DateTime.UtcNow - _retention;
            long total = files.Sum(f => f.Length);
            foreach (var f in files)
            {
                if (f.LastWriteTimeUtc >= cutoff && total <= _totalCap) break;
                total -= f.Length;
                f.Delete();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Problem(e.Message); }
    }

    private void Problem(string message)
    {
        // Once per kind of error, not once per job: the messages name each job's file.
        string kind = System.Text.RegularExpressions.Regex.Replace(message, "'[^']*'", "''");
        foreach (var open in _open.Values) open.OpenedBeforeTrouble = true;
        if (_lastError == kind) return;
        _lastError = kind;
        _log.LogError("job output files in {Dir}: {Error}; will retry", _dir, message);
    }

    private void Recovered()
    {
        if (_lastError is null) return;
        _lastError = null;
        _log.LogInformation("job output files in {Dir}: writing again", _dir);
    }

    public void Dispose()
    {
        foreach (var file in _open.Values)
        {
            try { file.Dispose(); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        _open.Clear();
    }
}

/// <summary>Sends every line to several outputs (the daemon log and the output files).</summary>
public sealed class JobOutputs(params IJobOutput[] outputs) : IJobOutput
{
    public void Line(Job job, OutputStream stream, LogLevel level, string text)
    {
        foreach (var o in outputs) o.Line(job, stream, level, text);
    }

    public void Lines(Job job, OutputStream stream, OutputLines lines)
    {
        foreach (var o in outputs) o.Lines(job, stream, lines);
    }

    public void Closed(Job job, OutputStream stream)
    {
        foreach (var o in outputs) o.Closed(job, stream);
    }
}
