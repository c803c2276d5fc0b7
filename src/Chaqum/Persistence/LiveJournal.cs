using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Chaqum.History;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Mono.Unix.Native;

namespace Chaqum.Persistence;

/// <summary>
/// STATE/live.journal: the one record of what is live (queued or running) and of runs the
/// history has not taken yet, written as it changes, so that crash recovery finds every
/// job a kill -9 interrupts, and every process it left. Each event is one JSON line
/// appended with one write(2) before the reply leaves: a killed process's writes are in
/// the page cache, so nothing the daemon acknowledged is lost by a kill (power loss is
/// another matter: nothing here is fsynced).
///
///   {"k":"+","id":"convert/7","a":1,"s":"convert","x":["a.png"],"g":"img","p":"init","t":1764540000.123}
///   {"k":"s","id":"convert/7","a":1,"pid":4242,"st":81234567,"cg":"/sys/fs/cgroup/.../job-7.1","t":1764540000.125}
///   {"k":"r","id":"convert/7","a":1, ... the run as the history records it ...}
///   {"k":"-","id":"convert/7"}
///
/// "s" names the job's process for good: its pid, its start time ("st", clock ticks since
/// boot, from /proc/PID/stat) and its cgroup ("cg", where it has one); recovery kills
/// only what matches. "r" is a run handed to the history writer: kept here until the
/// writer says it is on disk, so a run the history could not take (a crash before the
/// next batch, a full disk at a clean stop) is recorded by the next start, not lost.
///
/// The file is rewritten with just the live jobs and the runs the history still lacks
/// when it has grown to twice what that takes (and at least a megabyte), through a
/// temporary file and a rename, so its size stays in proportion. Written on the event
/// loop only. A write that fails is logged once.
/// </summary>
public sealed class LiveJournal : IDisposable
{
    public const string FileName = "live.journal";
    private const long MinRewriteBytes = 1 << 20;

    private readonly string _path;
    private readonly Func<IEnumerable<Job>> _liveJobs;
    private readonly Func<Job, (long StartTicks, string? Cgroup)> _identity;
    private readonly Func<long> _writtenRuns;
    private readonly ILogger _log;
    private readonly ArrayBufferWriter<byte> _line = new(512);
    private readonly Utf8JsonWriter _writer;
    private int _fd;
    private long _written;
    private long _liveBytes;
    private bool _failing;
    /// <summary>An append failed since the file was last written whole: it may lack lines.</summary>
    private bool _incomplete;

    /// <summary>Runs handed to the history writer that it has not confirmed yet, numbered
    /// in the order handed over (the writer counts them the same way).</summary>
    private readonly Queue<(long Seq, RunRecord Run)> _unwritten = new();
    private long _runs;

    /// <summary>Starts an empty journal (what the last one said has been recovered).
    /// identity: the process of a running job (JobRunner.Identity); writtenRuns: how many
    /// runs the history writer has on disk (HistoryWriter.WrittenRuns).</summary>
    public LiveJournal(string stateDir, Func<IEnumerable<Job>> liveJobs, ILogger log,
        Func<Job, (long StartTicks, string? Cgroup)>? identity = null, Func<long>? writtenRuns = null, string? cgroupRoot = null)
    {
        _cgroupRoot = cgroupRoot;
        _path = Path.Combine(stateDir, FileName);
        _liveJobs = liveJobs;
        _identity = identity ?? (_ => (0, null));
        _writtenRuns = writtenRuns ?? (() => long.MaxValue);
        _log = log;
        _writer = new Utf8JsonWriter(_line);
        _fd = Open(_path, OpenFlags.O_TRUNC, out int errno);
        if (_fd < 0) Failed($"cannot open {_path}: {Native.Errno.Text(errno)}");
        WriteDaemon();
        Append(_line.WrittenSpan);
    }

    private readonly string? _cgroupRoot;

    /// <summary>The "d" line, first in every journal: which daemon wrote it, so that
    /// recovery can tell its processes (started since) and its cgroups.</summary>
    private void WriteDaemon()
    {
        _line.ResetWrittenCount();
        _writer.Reset(_line);
        _writer.WriteStartObject();
        _writer.WriteString("k", "d");
        int self = Environment.ProcessId;
        _writer.WriteNumber("pid", self);
        _writer.WriteNumber("st", Processes.ProcStat.StartTicks(self) ?? 0);
        if (_cgroupRoot is not null) _writer.WriteString("cg", _cgroupRoot);
        EndLine();
    }

    /// <summary>Opens for appending; errno read right after the call.</summary>
    private static int Open(string path, OpenFlags extra, out int errno)
    {
        int fd = Syscall.open(path, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_APPEND | OpenFlags.O_CLOEXEC | extra,
            FilePermissions.S_IRUSR | FilePermissions.S_IWUSR);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd;
    }

    public void Enqueued(Job job)
    {
        WriteEnqueued(job);
        Append(_line.WrittenSpan);
    }

    public void Started(Job job)
    {
        WriteStarted(job);
        Append(_line.WrittenSpan);
    }

    /// <summary>A run handed to the history (JobHistory.Ran): kept until it is on disk there.</summary>
    public void Ran(RunRecord run)
    {
        _unwritten.Enqueue((++_runs, run));
        TrimWritten();
        WriteRun(run);
        Append(_line.WrittenSpan);
    }

    public void Finished(Job job)
    {
        BeginLine("-", job.Id);
        EndLine();
        Append(_line.WrittenSpan);
    }

    /// <summary>Forgets the runs the history writer has confirmed.</summary>
    private void TrimWritten()
    {
        long written = _writtenRuns();
        while (_unwritten.Count > 0 && _unwritten.Peek().Seq <= written) _unwritten.Dequeue();
    }

    /// <summary>Runs the history does not have yet.</summary>
    public int UnwrittenRuns
    {
        get
        {
            TrimWritten();
            return _unwritten.Count;
        }
    }

    private void WriteEnqueued(Job job)
    {
        BeginLine("+", job.Id);
        _writer.WriteNumber("a", job.Attempt);
        _writer.WriteString("s", job.Script.Relative);
        WriteArgs(job.Args);
        if (!job.Group.IsDefault) _writer.WriteString("g", job.Group.Name);
        if (job.Parent is { } parent) _writer.WriteString("p", parent.Id);
        _writer.WriteNumber("t", Seconds(job.EnqueuedAt));
        EndLine();
    }

    private void WriteStarted(Job job)
    {
        var (ticks, cgroup) = _identity(job);
        BeginLine("s", job.Id);
        _writer.WriteNumber("a", job.Attempt);
        _writer.WriteNumber("pid", job.Pid);
        if (ticks > 0) _writer.WriteNumber("st", ticks);
        if (cgroup is not null) _writer.WriteString("cg", cgroup);
        _writer.WriteNumber("t", Seconds(job.StartedAt ?? DateTimeOffset.Now));
        EndLine();
    }

    /// <summary>A run with every field the history keeps (names as its columns).</summary>
    private void WriteRun(RunRecord r)
    {
        BeginLine("r", r.Id);
        _writer.WriteNumber("a", r.Attempt);
        _writer.WriteString("s", r.Script);
        WriteArgs(r.Args);
        if (r.Group is not null) _writer.WriteString("g", r.Group);
        if (r.Parent is not null) _writer.WriteString("p", r.Parent);
        _writer.WriteNumber("t", Seconds(r.EnqueuedAt));
        if (r.StartedAt is { } started) _writer.WriteNumber("started", Seconds(started));
        if (r.EndedAt is { } ended) _writer.WriteNumber("ended", Seconds(ended));
        if (r.RuntimeSeconds is { } runtime) _writer.WriteNumber("runtime", runtime);
        if (r.ExitCode is { } exit) _writer.WriteNumber("exit", exit);
        if (r.Signal is { } signal) _writer.WriteNumber("signal", signal);
        _writer.WriteString("outcome", r.Outcome);
        _writer.WriteNumber("cpu_user", r.CpuUserSeconds);
        _writer.WriteNumber("cpu_system", r.CpuSystemSeconds);
        _writer.WriteNumber("max_rss", r.MaxRssBytes);
        _writer.WriteNumber("pid", r.Pid);
        EndLine();
    }

    private void WriteArgs(string[] args)
    {
        _writer.WriteStartArray("x");
        foreach (var arg in args) _writer.WriteStringValue(arg);
        _writer.WriteEndArray();
    }

    private static double Seconds(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>A new line in _line: {"k":kind,"id":id, ... (the rest, then EndLine).</summary>
    private void BeginLine(string kind, string id)
    {
        _line.ResetWrittenCount();
        _writer.Reset(_line);
        _writer.WriteStartObject();
        _writer.WriteString("k", kind);
        _writer.WriteString("id", id);
    }

    private void EndLine()
    {
        _writer.WriteEndObject();
        _writer.Flush();
        _line.GetSpan(1)[0] = (byte)'\n';
        _line.Advance(1);
    }

    private void Append(ReadOnlySpan<byte> line)
    {
        if (_fd < 0) return;
        if (WriteAll(_fd, line) is { } errno)
        {
            _incomplete = true;
            Failed($"cannot write {_path}: {Native.Errno.Text(errno)}");
            return;
        }
        if (_failing)
        {
            _failing = false;
            _log.LogInformation("{Path}: writing again", _path);
        }
        _written += line.Length;
        if (_written >= Math.Max(MinRewriteBytes, 2 * _liveBytes)) Rewrite();
    }

    /// <summary>What the journal must hold now: the runs the history lacks, and each live
    /// job's "+" line, and its "s" line if it runs.</summary>
    private ArrayBufferWriter<byte> Whole()
    {
        var all = new ArrayBufferWriter<byte>(64 * 1024);
        WriteDaemon();
        all.Write(_line.WrittenSpan);
        TrimWritten();
        foreach (var (_, run) in _unwritten)
        {
            WriteRun(run);
            all.Write(_line.WrittenSpan);
        }
        foreach (var job in _liveJobs())
        {
            WriteEnqueued(job);
            all.Write(_line.WrittenSpan);
            if (job.State == JobState.Running)
            {
                WriteStarted(job);
                all.Write(_line.WrittenSpan);
            }
        }
        return all;
    }

    /// <summary>Replaces the journal by <see cref="Whole"/> (temporary file, rename).
    /// False (logged) if that failed; the old file is then still there.</summary>
    private bool Rewrite()
    {
        string temporary = _path + ".new";
        int fd = Open(temporary, OpenFlags.O_TRUNC, out int errno);
        if (fd < 0)
        {
            Failed($"cannot rewrite {_path}: {Native.Errno.Text(errno)}");
            _written = 0; // try again after as much again
            return false;
        }
        var all = Whole();
        int? failed = WriteAll(fd, all.WrittenSpan);
        Syscall.close(fd);
        if (failed is null && Syscall.rename(temporary, _path) != 0) failed = Marshal.GetLastPInvokeError();
        if (failed is { } e)
        {
            Failed($"cannot rewrite {_path}: {Native.Errno.Text(e)}");
            Syscall.unlink(temporary);
            _written = 0;
            return false;
        }
        // The old descriptor points at the file just replaced: append to the new one.
        Syscall.close(_fd);
        _fd = Open(_path, 0, out errno);
        if (_fd < 0) Failed($"cannot open {_path}: {Native.Errno.Text(errno)}");
        _written = _liveBytes = all.WrittenCount;
        _incomplete = false;
        return true;
    }

    /// <summary>Writes all of data, finishing short writes and retrying EINTR. Null when
    /// done, else the errno of the write that failed (read right after it).</summary>
    private static unsafe int? WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            long done = 0;
            while (done < data.Length)
            {
                long n = Syscall.write(fd, p + done, (ulong)(data.Length - done));
                if (n > 0) { done += n; continue; }
                int errno = n < 0 ? Marshal.GetLastPInvokeError() : (int)Errno.ENOSPC;
                if (errno != (int)Errno.EINTR) return errno;
            }
        }
        return null;
    }

    private void Failed(string message)
    {
        if (_failing) return;
        _failing = true;
        _log.LogError("{Message}; jobs enqueued from now on may be missed by crash recovery until it works again", message);
    }

    /// <summary>
    /// The end of the daemon. After a clean stop nothing is live; if the history has every
    /// run too, nothing is left to recover and the file goes. Otherwise (the disk was full,
    /// the history unwritable) the journal stays, holding the runs the history lacks, and
    /// the next start records them (as what they were, not as lost): the file as it is if
    /// every append made it, else rewritten, else (no room for a second file) rewritten in
    /// place, which frees the old lines' space first. Says so in the log either way.
    /// </summary>
    public void Dispose()
    {
        int unwritten = UnwrittenRuns;
        bool live = _liveJobs().Any();
        if (!live && unwritten == 0)
        {
            if (_fd >= 0) Syscall.close(_fd);
            _fd = -1;
            if (Syscall.unlink(_path) == 0) return;
            int errno = Marshal.GetLastPInvokeError();
            if (errno != (int)Errno.ENOENT) _log.LogError("cannot remove {Path} at a clean stop: {Error}", _path, Native.Errno.Text(errno));
            return;
        }
        bool kept = _fd >= 0 && !_incomplete || Rewrite() || RewriteInPlace();
        if (_fd >= 0) Syscall.close(_fd);
        _fd = -1;
        if (unwritten == 0) return;
        if (kept)
            _log.LogError("history: {Count} runs could not be written to the history; {Path} keeps them, and the next start records them",
                unwritten, _path);
        else
            _log.LogError("history: {Count} runs could not be written to the history, nor kept in {Path}: they are missing from the history",
                unwritten, _path);
    }

    /// <summary>Truncates the journal and writes <see cref="Whole"/> into it, for when there
    /// is no room for a temporary file. A failure midway leaves a prefix (runs first: they
    /// are what a clean stop keeps), which the next start reads as far as it goes.</summary>
    private bool RewriteInPlace()
    {
        if (_fd < 0) return false;
        var all = Whole();
        if (Syscall.ftruncate(_fd, 0) != 0) return false;
        return WriteAll(_fd, all.WrittenSpan) is null;
    }

    /// <summary>What a journal says: the daemon that wrote it; every job it saw enqueued,
    /// with what it knows of its last attempt's process and whether it was seen to finish;
    /// and the runs it keeps.</summary>
    public sealed record Contents(DaemonRecord? Daemon, List<(LiveRecord Job, bool Finished)> Jobs, List<RunRecord> Runs);

    /// <summary>The daemon that wrote a journal: its pid, start time and cgroup directory.</summary>
    public sealed record DaemonRecord(int Pid, long StartTicks, string? Cgroup);

    /// <summary>Reads a journal. Missing or unreadable: empty. A torn last line is skipped.</summary>
    public static Contents Read(string stateDir)
    {
        var jobs = new Dictionary<string, (LiveRecord Job, bool Finished)>(StringComparer.Ordinal);
        var runs = new List<RunRecord>();
        DaemonRecord? daemon = null;
        string path = Path.Combine(stateDir, FileName);
        IEnumerable<string> lines;
        try { lines = File.ReadLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new(null, new(), runs); }
        try
        {
            foreach (var line in lines)
            {
                JsonElement j;
                try { j = JsonDocument.Parse(line).RootElement; }
                catch (JsonException) { continue; }
                if (!j.TryGetProperty("k", out var k)) continue;
                if (k.GetString() == "d")
                {
                    daemon = new DaemonRecord(Int(j, "pid") ?? 0, j.TryGetProperty("st", out var dst) ? dst.GetInt64() : 0,
                        j.TryGetProperty("cg", out var dcg) ? dcg.GetString() : null);
                    continue;
                }
                if (!j.TryGetProperty("id", out var idElement)) continue;
                string id = idElement.GetString()!;
                try
                {
                    switch (k.GetString())
                    {
                        case "+":
                            jobs[id] = (new LiveRecord(Head(id, j)), false);
                            break;
                        case "s" when jobs.TryGetValue(id, out var known):
                            jobs[id] = (known.Job with
                            {
                                Attempt = j.GetProperty("a").GetInt32(),
                                Pid = j.GetProperty("pid").GetInt32(),
                                StartTicks = j.TryGetProperty("st", out var st) ? st.GetInt64() : 0,
                                Cgroup = j.TryGetProperty("cg", out var cg) ? cg.GetString() : null,
                                StartedAt = Time(j, "t"),
                            }, false);
                            break;
                        case "r":
                            runs.Add(new RunRecord(Head(id, j) with { StartedAt = OptionalTime(j, "started"), Pid = Int(j, "pid") ?? 0 })
                            {
                                EndedAt = OptionalTime(j, "ended"),
                                RuntimeSeconds = j.TryGetProperty("runtime", out var rt) ? rt.GetDouble() : null,
                                ExitCode = Int(j, "exit"),
                                Signal = Int(j, "signal"),
                                Outcome = j.GetProperty("outcome").GetString()!,
                                CpuUserSeconds = j.GetProperty("cpu_user").GetDouble(),
                                CpuSystemSeconds = j.GetProperty("cpu_system").GetDouble(),
                                MaxRssBytes = j.GetProperty("max_rss").GetInt64(),
                            });
                            break;
                        case "-" when jobs.TryGetValue(id, out var known):
                            jobs[id] = (known.Job, true);
                            break;
                    }
                }
                catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return new(daemon, jobs.Values.ToList(), runs);
    }

    /// <summary>The fields "+" and "r" lines share.</summary>
    private static JobHead Head(string id, JsonElement j) => new()
    {
        Id = id,
        Attempt = j.GetProperty("a").GetInt32(),
        Script = j.GetProperty("s").GetString()!,
        Args = j.GetProperty("x").EnumerateArray().Select(a => a.GetString()!).ToArray(),
        Group = j.TryGetProperty("g", out var g) ? g.GetString() : null,
        Parent = j.TryGetProperty("p", out var p) ? p.GetString() : null,
        EnqueuedAt = Time(j, "t"),
    };

    private static int? Int(JsonElement j, string name) => j.TryGetProperty(name, out var v) ? v.GetInt32() : null;

    private static DateTimeOffset? OptionalTime(JsonElement j, string name) => j.TryGetProperty(name, out _) ? Time(j, name) : null;

    private static DateTimeOffset Time(JsonElement j, string name) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(j.GetProperty(name).GetDouble() * 1000));
}
