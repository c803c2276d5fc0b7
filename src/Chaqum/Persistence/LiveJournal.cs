using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Chaqum.History;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Mono.Unix.Native;
using Group = Chaqum.Scheduling.Group;

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
///   {"k":"s","id":"convert/7","a":1,"pid":4250,"st":81234999,"ex":"slurm:main","node":"n1","xid":"42","t":...}
///   {"k":"r","id":"convert/7","a":1, ... the run as the history records it ...}
///   {"k":"-","id":"convert/7"}
///   {"k":"G","g":"img","m":1,"pz":true}
///   {"k":"P","id":"plan/3","nm":"nightly","n":12,"p":"init","t":1764540000.120}
///   {"k":"A","id":"plan/3","role":"convert"}
///   {"k":"A","id":"plan/3","role":"convert","xid":"57"}
///   {"k":"p","id":"plan/3"}
///   {"k":"c"}
///
/// A "+" line carries everything the job needs to be enqueued again after a restart
/// (docs/operations.md, "Restarts and upgrades"): its number ("n", only on jobs that can
/// be kept: not the entry job, not repeat firings), priority, timeout, retries, key, -F,
/// -R, the jobs it still waits for ("dep"), due time, held, urgent; defaults are left out.
/// "G" is a group's limits and pause, written when they change. "P" is a plan submitted
/// (its name, step count, submitter), "p" its end: a plan with a "P" and no "p" was
/// running when the daemon died, and recovery records it lost. "A" is the Slurm
/// allocation of one of the plan's roles (docs/cluster.md, "Plans and roles"), written
/// when salloc is started (no "xid": pending, known to Slurm only by its name
/// chaqum:TREE:plan/N:ROLE) and again when it is granted, with its Slurm job id (the last
/// line of a role wins); recovery cancels, by id or else by name, the allocations of
/// every plan with no "p". A plan step's "+" and "r"
/// lines name its plan ("pl"); it is never keepable (no "n"), so it does not come back. "c" ends a journal
/// written at an orderly stop: what is live in it was kept on purpose, nothing ran.
///
/// "s" names the job's process for good: its pid, its start time ("st", clock ticks since
/// boot, from /proc/PID/stat) and its cgroup ("cg", where it has one); recovery kills
/// only what matches. "r" is a run handed to the history writer: kept here until the
/// writer says it is on disk, so a run the history could not take (a crash before the
/// next batch, a full disk at a clean stop) is recorded by the next start, not lost.
///
/// The file is written whole at <see cref="Begin"/> (after the jobs of the last run were
/// taken back: the old file stays until the new one replaces it), and rewritten with just the live jobs and the runs the history still lacks
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
    private readonly Func<IEnumerable<Group>> _groups;
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

    /// <summary>A journal that writes nothing until <see cref="Begin"/> (what the last one
    /// said is being recovered). identity: the process of a running job (JobRunner.Identity);
    /// writtenRuns: how many runs the history writer has on disk (HistoryWriter.WrittenRuns);
    /// groups: the groups whose settings are kept.</summary>
    public LiveJournal(string stateDir, Func<IEnumerable<Job>> liveJobs, ILogger log,
        Func<Job, (long StartTicks, string? Cgroup)>? identity = null, Func<long>? writtenRuns = null, string? cgroupRoot = null,
        Func<IEnumerable<Group>>? groups = null)
    {
        _cgroupRoot = cgroupRoot;
        _path = Path.Combine(stateDir, FileName);
        _liveJobs = liveJobs;
        _groups = groups ?? Array.Empty<Group>;
        _identity = identity ?? (_ => (0, null));
        _writtenRuns = writtenRuns ?? (() => long.MaxValue);
        _log = log;
        _writer = new Utf8JsonWriter(_line);
        _fd = -1;
    }

    /// <summary>From now on every event is written. The file is replaced (temporary file,
    /// rename) by this daemon's whole state, which already holds the jobs taken back from
    /// the last run: until then the last run's file stays, so a crash in between loses
    /// nothing. Events before this (the jobs taken back) are in that whole state.</summary>
    public void Begin()
    {
        if (_begun) return;
        _begun = true;
        if (Rewrite()) return;
        _fd = Open(_path, OpenFlags.O_TRUNC, out int errno);
        if (_fd < 0) Failed($"cannot open {_path}: {Native.Errno.Text(errno)}");
        else RewriteInPlace();
    }

    private bool _begun;

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

    /// <summary>The plans running now: a rewrite keeps their "P" lines.</summary>
    public Func<IEnumerable<Plans.Plan>>? LivePlans { get; set; }

    public void PlanSubmitted(Plans.Plan plan)
    {
        if (!_begun) return;
        WritePlan(plan);
        Append(_line.WrittenSpan);
    }

    public void PlanEnded(Plans.Plan plan)
    {
        if (!_begun) return;
        BeginLine("p", plan.Id);
        EndLine();
        Append(_line.WrittenSpan);
    }

    /// <summary>A role's allocation was asked for or granted (one withdrawn or refused
    /// leaves nothing to cancel: its request line stands, and recovery's cancel by name
    /// finds nothing).</summary>
    public void AllocationChanged(Plans.Plan plan, Plans.RoleAllocation allocation)
    {
        if (!_begun || allocation.State is not (Plans.AllocationState.Requested or Plans.AllocationState.Granted)) return;
        WriteAllocation(allocation);
        Append(_line.WrittenSpan);
    }

    private void WriteAllocation(Plans.RoleAllocation allocation)
    {
        BeginLine("A", allocation.PlanId);
        _writer.WriteString("role", allocation.Role);
        if (allocation.SlurmJobId is { } id) _writer.WriteString("xid", id);
        EndLine();
    }

    private void WritePlan(Plans.Plan plan)
    {
        BeginLine("P", plan.Id);
        if (plan.Name is { } name) _writer.WriteString("nm", name);
        _writer.WriteNumber("n", plan.Steps.Count);
        if (plan.Submitter is { } submitter) _writer.WriteString("p", submitter);
        _writer.WriteNumber("t", Seconds(plan.SubmittedAt));
        EndLine();
    }

    public void Enqueued(Job job)
    {
        if (!_begun) return;
        WriteEnqueued(job);
        Append(_line.WrittenSpan);
    }

    public void Started(Job job)
    {
        if (!_begun) return;
        WriteStarted(job);
        Append(_line.WrittenSpan);
    }

    /// <summary>A running job reached its node on the cluster: its "s" line again, now
    /// with the node and the Slurm job id, so that a crash from here on can cancel it by id.</summary>
    public void Placed(Job job)
    {
        if (job.State != JobState.Running) return;
        Started(job);
    }

    /// <summary>A waiting job's priority or hold changed: its "+" line again (the last one
    /// read wins). Not for a running job: its "+" line would hide its "s" line.</summary>
    public void Changed(Job job)
    {
        if (!_begun || job.State is JobState.Running or JobState.Starting) return;
        WriteEnqueued(job);
        Append(_line.WrittenSpan);
    }

    public void GroupChanged(Group group)
    {
        if (!_begun) return;
        WriteGroup(group);
        Append(_line.WrittenSpan);
    }

    /// <summary>A run handed to the history (JobHistory.Ran): kept until it is on disk there.</summary>
    public void Ran(RunRecord run)
    {
        _unwritten.Enqueue((++_runs, run));
        TrimWritten();
        if (!_begun) return;
        WriteRun(run);
        Append(_line.WrittenSpan);
    }

    public void Finished(Job job)
    {
        if (!_begun) return;
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
        if (job.ParentId is { } parent) _writer.WriteString("p", parent);
        _writer.WriteNumber("t", Seconds(job.EnqueuedAt));
        if (job.Step is { } step) _writer.WriteString("pl", step.Plan.Id);
        else if (!job.IsEntry && job.Repeat is null) WriteKeepable(job);
        EndLine();
    }

    /// <summary>What enqueues a job again after a restart; defaults left out (most jobs
    /// have none of these, and the line is written at every enqueue).</summary>
    private void WriteKeepable(Job job)
    {
        _writer.WriteNumber("n", job.Number);
        if (job.Priority != 0) _writer.WriteNumber("pr", job.Priority);
        var o = job.Options;
        if (!ReferenceEquals(o, JobOptions.Default))
        {
            if (o.Timeout is { } timeout) _writer.WriteNumber("to", timeout.TotalSeconds);
            if (o.Retries != 0) _writer.WriteNumber("rt", o.Retries);
            if (o.Key is { } key) _writer.WriteString("ky", key);
            if (o.Forget) _writer.WriteBoolean("F", true);
            if (o.Requeue) _writer.WriteBoolean("R", true);
        }
        if (job.WaitsOn is { } deps && job.State == JobState.Pending)
        {
            _writer.WriteStartArray("dep");
            // Those that have not succeeded (yet): the next start looks at them again.
            foreach (var dep in deps)
                if (dep.State.IsActive() || !dep.Status.Succeeded) _writer.WriteStringValue(dep.Id);
            _writer.WriteEndArray();
        }
        if (job.DueAt is { } due) _writer.WriteNumber("due", Seconds(due));
        if (job.Held) _writer.WriteBoolean("H", true);
        if (job.Urgent) _writer.WriteBoolean("U", true);
    }

    /// <summary>A group's settings: limits and pause ("g" is "" for the ungrouped jobs).</summary>
    private void WriteGroup(Group group)
    {
        _line.ResetWrittenCount();
        _writer.Reset(_line);
        _writer.WriteStartObject();
        _writer.WriteString("k", "G");
        _writer.WriteString("g", group.Name);
        if (group.MaxProcs > 0) _writer.WriteNumber("m", group.MaxProcs);
        var b = group.Barriers;
        if (b.MaxCpu is { } c) _writer.WriteNumber("c", c);
        if (b.MaxLoad is { } l) _writer.WriteNumber("l", l);
        if (b.MinMemory is { } mem) _writer.WriteNumber("M", mem);
        if (b.MaxPressure is { } p) _writer.WriteNumber("P", p);
        if (group.BreakAfter > 0) _writer.WriteNumber("B", group.BreakAfter);
        if (group.Paused) _writer.WriteBoolean("pz", true);
        if (group.PausedReason is { } why) _writer.WriteString("why", why);
        if (!group.Executor.IsLocal)
        {
            // Jobs taken back at a restart start before init could say group -x again.
            _writer.WriteString("ex", group.Executor.Name);
            _writer.WriteStartArray("X");
            foreach (var arg in group.Executor.ExtraArgs) _writer.WriteStringValue(arg);
            _writer.WriteEndArray();
        }
        EndLine();
    }

    /// <summary>Groups with something to keep: limits, barriers, a failure breaker or a pause.</summary>
    private static bool HasSettings(Group g) => g.MaxProcs > 0 || !g.Barriers.IsEmpty || g.BreakAfter > 0 || g.Paused || !g.Executor.IsLocal;

    private void WriteStarted(Job job)
    {
        var (ticks, cgroup) = _identity(job);
        BeginLine("s", job.Id);
        _writer.WriteNumber("a", job.Attempt);
        _writer.WriteNumber("pid", job.Pid);
        if (ticks > 0) _writer.WriteNumber("st", ticks);
        if (cgroup is not null) _writer.WriteString("cg", cgroup);
        WritePlacement(job.Placement?.Executor, job.Placement?.Node, job.Placement?.ExternalId);
        _writer.WriteNumber("t", Seconds(job.StartedAt ?? DateTimeOffset.Now));
        EndLine();
    }

    /// <summary>Where a job runs off this machine: "ex" executor, "node", "xid" the Slurm
    /// job id; what crash recovery cancels on the cluster. Nothing for a local job.</summary>
    private void WritePlacement(string? executor, string? node, string? externalId)
    {
        if (executor is not null) _writer.WriteString("ex", executor);
        if (node is not null) _writer.WriteString("node", node);
        if (externalId is not null) _writer.WriteString("xid", externalId);
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
        if (r.Plan is { } plan) _writer.WriteString("pl", plan);
        WritePlacement(r.Executor, r.Node, r.ExternalId);
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
    private Chunks Whole(int fd, bool clean = false)
    {
        var all = new Chunks(fd, _chunk);
        WriteDaemon();
        all.Add(_line.WrittenSpan);
        TrimWritten();
        foreach (var (_, run) in _unwritten)
        {
            WriteRun(run);
            all.Add(_line.WrittenSpan);
        }
        foreach (var group in _groups())
        {
            if (!HasSettings(group)) continue;
            WriteGroup(group);
            all.Add(_line.WrittenSpan);
        }
        foreach (var plan in LivePlans?.Invoke() ?? [])
        {
            WritePlan(plan);
            all.Add(_line.WrittenSpan);
            foreach (var allocation in plan.Allocations)
            {
                if (allocation.State is not (Plans.AllocationState.Requested or Plans.AllocationState.Granted)) continue;
                WriteAllocation(allocation);
                all.Add(_line.WrittenSpan);
            }
        }
        // In number order: the next start enqueues them again in this order, which keeps
        // each group's first-come-first-served order (and puts dependencies first).
        foreach (var job in _liveJobs().OrderBy(j => j.Number))
        {
            WriteEnqueued(job);
            all.Add(_line.WrittenSpan);
            if (job.State == JobState.Running)
            {
                WriteStarted(job);
                all.Add(_line.WrittenSpan);
            }
        }
        if (clean)
        {
            WriteClean();
            all.Add(_line.WrittenSpan);
        }
        all.Flush();
        return all;
    }

    private readonly ArrayBufferWriter<byte> _chunk = new(Chunks.Size * 2);

    /// <summary>The whole journal going to a file 64 KiB at a time: for 100 000 jobs, one
    /// buffer of the whole would be 11 MB, grown by doubling, at every rewrite.</summary>
    private sealed class Chunks(int fd, ArrayBufferWriter<byte> buffer)
    {
        public const int Size = 64 * 1024;
        public long Bytes { get; private set; }
        /// <summary>The errno of the write that failed, if one did (then nothing more is written).</summary>
        public int? Failed { get; private set; }

        public void Add(ReadOnlySpan<byte> line)
        {
            buffer.Write(line);
            Bytes += line.Length;
            if (buffer.WrittenCount >= Size) Flush();
        }

        public void Flush()
        {
            if (Failed is null && buffer.WrittenCount > 0) Failed = WriteAll(fd, buffer.WrittenSpan);
            buffer.ResetWrittenCount();
        }
    }

    /// <summary>The "c" line: an orderly stop wrote this journal.</summary>
    private void WriteClean()
    {
        _line.ResetWrittenCount();
        _writer.Reset(_line);
        _writer.WriteStartObject();
        _writer.WriteString("k", "c");
        EndLine();
    }

    /// <summary>Replaces the journal by <see cref="Whole"/> (temporary file, rename).
    /// False (logged) if that failed; the old file is then still there.</summary>
    private bool Rewrite(bool clean = false)
    {
        string temporary = _path + ".new";
        int fd = Open(temporary, OpenFlags.O_TRUNC, out int errno);
        if (fd < 0)
        {
            Failed($"cannot rewrite {_path}: {Native.Errno.Text(errno)}");
            _written = 0; // try again after as much again
            return false;
        }
        var all = Whole(fd, clean);
        int? failed = all.Failed;
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
        _written = _liveBytes = all.Bytes;
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
    /// The end of the daemon. After a clean stop nothing is live but the jobs kept for the
    /// next start; if there are none and the history has every run too, nothing is left
    /// to recover and the file goes. Otherwise the journal stays, holding the kept jobs and
    /// the runs the history lacks (the disk was full, the history unwritable), and the next
    /// start enqueues the jobs again and records the runs (as what they were, not as lost):
    /// rewritten whole with the "c" mark, else (no room for a second file) the file as it
    /// is if every append made it, marked, else rewritten in place, which frees the old
    /// lines' space first. Says so in the log either way.
    /// </summary>
    public void Dispose()
    {
        // Never begun: the last run's file is still the record; leave it for the next start.
        if (!_begun) return;
        int unwritten = UnwrittenRuns;
        var live = _liveJobs().ToList();
        if (live.Count == 0 && unwritten == 0)
        {
            if (_fd >= 0) Syscall.close(_fd);
            _fd = -1;
            if (Syscall.unlink(_path) == 0) return;
            int errno = Marshal.GetLastPInvokeError();
            if (errno != (int)Errno.ENOENT) _log.LogError("cannot remove {Path} at a clean stop: {Error}", _path, Native.Errno.Text(errno));
            return;
        }
        bool kept = Rewrite(clean: true) || AppendClean() || RewriteInPlace(clean: true);
        if (_fd >= 0) Syscall.close(_fd);
        _fd = -1;
        if (live.Count > 0)
        {
            if (kept)
                _log.LogInformation("keeping {Count} queued jobs for the next start ({Again} to run again)",
                    live.Count, live.Count(j => j.Attempt > 0));
            else
                _log.LogError("cannot keep {Count} queued jobs for the next start: {Path} cannot be written", live.Count, _path);
        }
        if (unwritten == 0) return;
        if (kept)
            _log.LogError("history: {Count} runs could not be written to the history; {Path} keeps them, and the next start records them",
                unwritten, _path);
        else
            _log.LogError("history: {Count} runs could not be written to the history, nor kept in {Path}: they are missing from the history",
                unwritten, _path);
    }

    /// <summary>The file as appended, marked clean: when every append made it.</summary>
    private bool AppendClean()
    {
        if (_fd < 0 || _incomplete) return false;
        WriteClean();
        return WriteAll(_fd, _line.WrittenSpan) is null;
    }

    /// <summary>Truncates the journal and writes <see cref="Whole"/> into it, for when there
    /// is no room for a temporary file. A failure midway leaves a prefix (runs first: they
    /// are what a clean stop keeps), which the next start reads as far as it goes.</summary>
    private bool RewriteInPlace(bool clean = false)
    {
        if (_fd < 0) return false;
        if (Syscall.ftruncate(_fd, 0) != 0) return false;
        return Whole(_fd, clean).Failed is null;
    }

    /// <summary>What a journal says: the daemon that wrote it; every job it saw enqueued,
    /// with what it knows of its last attempt's process and whether it was seen to finish;
    /// and the runs it keeps; the groups' settings; whether an orderly stop wrote it.</summary>
    public sealed record Contents(DaemonRecord? Daemon, List<(LiveRecord Job, bool Finished)> Jobs, List<RunRecord> Runs)
    {
        public List<GroupRecord> Groups { get; init; } = new();
        /// <summary>Plans submitted, in the order seen, and whether each was seen to end.</summary>
        public List<PlanLine> Plans { get; init; } = new();
        /// <summary>The Slurm allocations of plans' roles, each as its last "A" line says.</summary>
        public List<AllocationLine> Allocations { get; init; } = new();
        public bool Clean { get; init; }
    }

    /// <summary>A plan as its "P" line keeps it, and whether a "p" line ended it.</summary>
    public sealed record PlanLine(string Id, string? Name, int Steps, string? Submitter, DateTimeOffset SubmittedAt, bool Ended);

    /// <summary>A plan role's allocation as its last "A" line says: its Slurm job id once
    /// granted, else null (pending: known by name only).</summary>
    public sealed record AllocationLine(string PlanId, string Role, string? SlurmJobId);

    /// <summary>A group's settings as a "G" line keeps them.</summary>
    public sealed record GroupRecord(string Name, GroupLimits Limits, bool Paused, string? PausedReason = null);

    /// <summary>The daemon that wrote a journal: its pid, start time and cgroup directory.</summary>
    public sealed record DaemonRecord(int Pid, long StartTicks, string? Cgroup);

    /// <summary>Reads a journal. Missing or unreadable: empty. A torn last line is skipped.</summary>
    public static Contents Read(string stateDir)
    {
        var jobs = new Dictionary<string, (LiveRecord Job, bool Finished)>(StringComparer.Ordinal);
        var runs = new List<RunRecord>();
        var groups = new Dictionary<string, GroupRecord>(StringComparer.Ordinal);
        var plans = new Dictionary<string, PlanLine>(StringComparer.Ordinal);
        var allocations = new Dictionary<(string, string), AllocationLine>();
        bool clean = false;
        DaemonRecord? daemon = null;
        byte[] bytes;
        try { bytes = File.ReadAllBytes(Path.Combine(stateDir, FileName)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new(null, new(), runs); }
        var l = new JournalLine();
        var rest = bytes.AsSpan();
        while (rest.Length > 0)
        {
            int end = rest.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 1)..];
            try { l.Parse(line); }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException) { continue; }
            switch (l.Kind)
            {
                case "c":
                    clean = true;
                    break;
                case "d":
                    daemon = new DaemonRecord((int)(l.Pid ?? 0), l.StartTicks ?? 0, l.Cgroup);
                    break;
                case "G" when l.Group is { } name:
                    groups[name] = new GroupRecord(name, new GroupLimits
                    {
                        MaxProcs = (int?)l.MaxProcs,
                        MaxCpu = l.MaxCpu,
                        MaxLoad = l.MaxLoad,
                        MinMemory = l.MinMemory,
                        MaxPressure = l.MaxPressure,
                        BreakAfter = (int?)l.BreakAfter,
                        Executor = l.Executor is { } ex ? Executor.Parse(ex, out _) is { } parsed ? parsed with { ExtraArgs = l.ExtraArgs.ToArray() } : null : null,
                    }, l.Paused, l.PausedReason);
                    break;
                case "+" when l.Id is { } id && l.Attempt is not null && l.Script is not null && l.Enqueued is not null:
                    jobs[id] = (Live(l), false);
                    break;
                case "s" when l.Id is { } id && jobs.TryGetValue(id, out var known) && l.Attempt is { } a && l.Pid is { } pid && l.Enqueued is { } t:
                    jobs[id] = (known.Job with
                    {
                        Attempt = (int)a,
                        Pid = (int)pid,
                        StartTicks = l.StartTicks ?? 0,
                        Cgroup = l.Cgroup,
                        StartedAt = JournalLine.Time(t),
                        Executor = l.Executor,
                        Node = l.Node,
                        ExternalId = l.ExternalId,
                    }, false);
                    break;
                case "r" when l.Id is { } id && Head(l) is { } head && l.Outcome is { } outcome && l.CpuUser is { } user
                              && l.CpuSystem is { } system && l.MaxRss is { } rss:
                    // The attempt the "s" line started has ended: no process is left of it
                    // (the job waits for a retry, or a "-" follows).
                    if (jobs.TryGetValue(id, out var ran) && ran.Job.Pid > 0 && ran.Job.Attempt == head.Attempt)
                        jobs[id] = (ran.Job with { Pid = 0, StartTicks = 0, Cgroup = null }, ran.Finished);
                    runs.Add(new RunRecord(head with { StartedAt = JournalLine.Time(l.Started), Pid = (int)(l.Pid ?? 0),
                        Executor = l.Executor, Node = l.Node, ExternalId = l.ExternalId })
                    {
                        EndedAt = JournalLine.Time(l.Ended),
                        RuntimeSeconds = l.Runtime,
                        ExitCode = (int?)l.Exit,
                        Signal = (int?)l.Signal,
                        Outcome = outcome,
                        CpuUserSeconds = user,
                        CpuSystemSeconds = system,
                        MaxRssBytes = rss,
                    });
                    break;
                case "P" when l.Id is { } id && l.Enqueued is { } submitted:
                    plans[id] = new PlanLine(id, l.Name, (int)(l.Number ?? 0), l.Parent, JournalLine.Time(submitted), false);
                    break;
                case "A" when l.Id is { } id && l.Role is { } role:
                    allocations[(id, role)] = new AllocationLine(id, role, l.ExternalId);
                    break;
                case "p" when l.Id is { } id && plans.TryGetValue(id, out var ended):
                    plans[id] = ended with { Ended = true };
                    break;
                case "-" when l.Id is { } id && jobs.TryGetValue(id, out var finished):
                    jobs[id] = (finished.Job, true);
                    break;
            }
        }
        return new(daemon, jobs.Values.ToList(), runs)
        {
            Groups = groups.Values.ToList(), Clean = clean, Plans = plans.Values.ToList(), Allocations = allocations.Values.ToList(),
        };
    }

    /// <summary>The fields "+" and "r" lines share; null if one they must have is missing.</summary>
    private static JobHead? Head(JournalLine l) =>
        l.Id is { } id && l.Attempt is { } a && l.Script is { } script && l.Enqueued is { } t
            ? new JobHead
            {
                Id = id,
                Attempt = (int)a,
                Script = script,
                Args = l.Args.ToArray(),
                Group = l.Group,
                Parent = l.Parent,
                EnqueuedAt = JournalLine.Time(t),
                Plan = l.Plan,
            }
            : null;

    /// <summary>A "+" line, with what enqueues the job again (see WriteKeepable). Made in
    /// one piece: a journal may hold 100 000 of them.</summary>
    private static LiveRecord Live(JournalLine l) => new()
    {
        Id = l.Id!,
        Attempt = (int)l.Attempt!.Value,
        Script = l.Script!,
        Args = l.Args.Count == 0 ? Array.Empty<string>() : l.Args.ToArray(),
        Group = l.Group,
        Parent = l.Parent,
        EnqueuedAt = JournalLine.Time(l.Enqueued!.Value),
        Plan = l.Plan,
        Number = l.Number,
        Priority = (int)(l.Priority ?? 0),
        Timeout = l.Timeout is { } to ? TimeSpan.FromSeconds(to) : null,
        Retries = (int)(l.Retries ?? 0),
        Key = l.Key,
        Forget = l.Forget,
        Requeue = l.Requeue,
        Dependencies = l.Dependencies.Count == 0 ? Array.Empty<string>() : l.Dependencies.ToArray(),
        DueAt = JournalLine.Time(l.Due),
        Held = l.Held,
        Urgent = l.Urgent,
    };
}
