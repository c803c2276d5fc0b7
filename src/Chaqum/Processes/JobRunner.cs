using System.Globalization;
using Chaqum.Logging;
using Chaqum.Native;
using Chaqum.Processes.Slurm;
using Chaqum.Protocol;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Processes;

/// <summary>
/// The process side of a job: spawns it with its pipes wired to output readers and a
/// protocol connection, tracks its exit with the reaper, and signals all its processes.
/// A job is finished when its process has exited: output or fd 3 still held open by a
/// stray grandchild does not keep it running (those are served until EOF, then closed).
///
/// A job's processes are not only its process group, which any of them may leave
/// (setpgid, setsid): where cgroups can be had, each job runs in a cgroup of its own
/// (<see cref="JobCgroups"/>); and in any case a signal to a job also goes to its
/// descendants (found through /proc children lists) and to the daemon's orphans (it is
/// their subreaper) that carry the job's CHAQUM_IDENT. That sweep also covers what a job
/// forks before the daemon has moved it into its cgroup. Cgroups that outlive their job
/// are remembered and emptied at shutdown, with every other descendant of the daemon.
/// </summary>
public sealed class JobRunner : IJobLauncher, IDisposable
{
    private readonly EventLoop.EpollLoop _loop;
    private readonly Spawner _spawner;
    private readonly Reaper _reaper;
    private readonly IJobOutput _output;
    private readonly ILogger _log;
    private readonly JobCgroups? _cgroups;
    private readonly HashSet<string> _lingering = new(StringComparer.Ordinal);
    private readonly Dictionary<Job, JobProcess> _live = new();
    /// <summary>Jobs that exited while being killed, with what they may have left: their
    /// process group and cgroup (see SignalRemnants).</summary>
    private readonly Dictionary<Job, (int Pgid, string? Cgroup)> _remnants = new();
    private List<int>? _orphans;
    private readonly OpenConnection _connect;
    private readonly Action<Job, JobStatus, ResourceUsage> _onExit;

    /// <param name="connect">Opens the protocol on a started job's command and reply pipes.</param>
    /// <param name="onExit">Told when a job's process has been reaped.</param>
    public JobRunner(EventLoop.EpollLoop loop, Spawner spawner, Reaper reaper, IJobOutput output,
        OpenConnection connect, Action<Job, JobStatus, ResourceUsage> onExit, ILogger log, JobCgroups? cgroups = null, string? tree = null)
    {
        _cgroups = cgroups;
        _loop = loop;
        _spawner = spawner;
        _reaper = reaper;
        _output = output;
        _connect = connect;
        _onExit = onExit;
        _log = log;
        Slurm = new SlurmExecutor(loop, spawner, reaper, tree ?? Environment.CurrentDirectory, log);
    }

    /// <summary>The executor of Slurm groups' jobs (local jobs are spawned here directly).</summary>
    public SlurmExecutor Slurm { get; }

    /// <summary>A job's placement changed (a Slurm job reached its node): for the live
    /// journal, so that crash recovery can cancel it on the cluster.</summary>
    public event Action<Job>? Placed;

    /// <summary>Extra environment for the entry job only (e.g. CHAQUM_RECOVERED).</summary>
    public List<KeyValuePair<string, string>> EntryEnvironment { get; } = new();

    private sealed class JobProcess
    {
        public required Job Job { get; init; }
        public required int Pid { get; init; }
        public required OutputReader Stdout { get; init; }
        public required OutputReader Stderr { get; init; }
        public required JobConnection Connection { get; init; }
        /// <summary>The job's cgroup directory, if it got one.</summary>
        public string? Cgroup { get; init; }
        /// <summary>Start time of the job's process (/proc/PID/stat field 22).</summary>
        public long StartTicks { get; init; }
        /// <summary>For a job of a Slurm group: its srun's tunnel and Slurm identity.</summary>
        public SlurmRun? Slurm { get; init; }
    }

    /// <summary>What tells the job's process from any later one with its pid, and where
    /// its processes are: for the live journal, so that crash recovery finds them.</summary>
    public (long StartTicks, string? Cgroup) Identity(Job job) =>
        _live.TryGetValue(job, out var p) ? (p.StartTicks, p.Cgroup) : (0, null);

    public LaunchResult Launch(Job job)
    {
        var env = new List<KeyValuePair<string, string>>(6)
        {
            new("CHAQUM_IDENT", job.Id),
            new("CHAQUM_ATTEMPT", job.Attempt.ToString(CultureInfo.InvariantCulture)),
        };
        if (job.ParentId is { } parent) env.Add(new("CHAQUM_PARENT", parent));
        if (!job.Group.IsDefault) env.Add(new("CHAQUM_GROUP", job.Group.Name));
        if (job.Slot >= 0) env.Add(new("CHAQUM_SLOT", job.Slot.ToString(CultureInfo.InvariantCulture)));
        if (job.Step is { } step)
        {
            env.Add(new("CHAQUM_PLAN", step.Plan.Id));
            env.Add(new("CHAQUM_PLAN_STEP", step.Node.JsonPath));
        }
        if (job.IsEntry) env.AddRange(EntryEnvironment);
        if (job.Repeat?.Watch?.BatchOf(job) is { } changes)
        {
            env.Add(new("CHAQUM_CHANGED", changes.File));
            env.Add(new("CHAQUM_CHANGED_COUNT", changes.Count.ToString(CultureInfo.InvariantCulture)));
            if (changes.Incomplete) env.Add(new("CHAQUM_CHANGED_INCOMPLETE", "1"));
        }

        // Leave descriptors for the daemon itself (see Descriptors): short of them, the job
        // waits and is retried, as on EMFILE. Each live job may still open its output file.
        long limit = Descriptors.Limit;
        int reserve = (int)Math.Min(128, limit / 8) + _live.Count;
        if (Descriptors.Short(needed: 8, reserve, limit))
            return LaunchResult.Failed($"too few file descriptors left (limit {limit}, " +
                $"{reserve} kept for the daemon and its jobs' output files) ({job.Script.Relative})", transient: true);
        // Likewise tasks: the runtime aborts when it cannot start a thread.
        if (TaskHeadroom.Short(reserve: 32) is { } tasks)
            return LaunchResult.Failed($"{tasks} ({job.Script.Relative})", transient: true);

        if (!job.Group.Executor.IsLocal) return LaunchOnSlurm(job, env);
        job.Placement = null;
        int pid = _spawner.Start(job.Script, job.Args, env, out var pipes, out int errno, out string? refused);
        if (pid == 0) return SpawnFailed(job, errno, refused);

        // Into its cgroup before anything else (see JobCgroups for the window this leaves);
        // the start time is read while the child is ours and unreaped, so it is its own.
        string? cgroup = _cgroups?.Enter($"job-{job.Number}.{job.Attempt}", pid);
        var process = new JobProcess
        {
            Job = job,
            Pid = pid,
            Cgroup = cgroup,
            StartTicks = ProcStat.StartTicks(pid) ?? 0,
            Stdout = new OutputReader(_loop, job, OutputStream.Stdout, pipes.Stdout, _output),
            Stderr = new OutputReader(_loop, job, OutputStream.Stderr, pipes.Stderr, _output),
            Connection = _connect(job, pipes.Commands, pipes.Replies),
        };
        _live[job] = process;
        _reaper.Track(pid, (status, usage) => Exited(process, status, usage));
        return LaunchResult.Started(pid);
    }

    private static LaunchResult SpawnFailed(Job job, int errno, string? refused)
    {
        if (refused is not null) return LaunchResult.Failed($"refused at spawn: {refused}", transient: false);
        bool transient = errno is Errno.EAGAIN or 12 /* ENOMEM */ or 23 /* ENFILE */ or 24 /* EMFILE */;
        return LaunchResult.Failed($"{Errno.Text(errno)} ({job.Script.Relative})", transient);
    }

    /// <summary>A job of a Slurm group: its process here is srun, whose stdout the
    /// ShimStream takes apart into the job's stdout and commands; from then on it is
    /// wired, reaped and ended exactly as a local job.</summary>
    private LaunchResult LaunchOnSlurm(Job job, List<KeyValuePair<string, string>> env)
    {
        var launched = Slurm.Launch(job, env, out int errno, out string? refused);
        if (launched is null) return SpawnFailed(job, errno, refused);
        var (pid, pipes, run) = launched;
        job.Placement = new Placement(run.Executor, null, null, run.JobName);
        var process = new JobProcess
        {
            Job = job,
            Pid = pid,
            StartTicks = ProcStat.StartTicks(pid) ?? 0,
            Slurm = run,
            Stdout = new OutputReader(_loop, job, OutputStream.Stdout, pipes.Stdout, _output),
            Stderr = new OutputReader(_loop, job, OutputStream.Stderr, pipes.Stderr, _output),
            Connection = _connect(job, pipes.Commands, pipes.Replies),
        };
        run.Stream.Identified = (slurmJobId, node, stepId) =>
        {
            run.SlurmJobId = slurmJobId == "-" ? null : slurmJobId;
            run.Node = node;
            run.StepId = stepId;
            if (!_live.TryGetValue(job, out var live) || !ReferenceEquals(live, process)) return;
            job.Placement = new Placement(run.Executor, node, run.ExternalId, run.JobName);
            _log.LogInformation("{Job}: running on {Where}", job.Id, job.Placement.Describe());
            Placed?.Invoke(job);
        };
        _live[job] = process;
        _reaper.Track(pid, (status, usage) => Exited(process, status, usage));
        return LaunchResult.Started(pid);
    }

    private void Exited(JobProcess process, int status, Wait.RUsage usage)
    {
        // Log what it printed and run what it asked for before saying it ended: for a
        // Slurm job, first what srun still holds of the shim's frames (its status too).
        process.Slurm?.Stream.Drain();
        process.Stdout.Drain();
        process.Stderr.Drain();
        process.Connection.JobExited();
        _live.Remove(process.Job);

        var jobStatus = process.Slurm is { } run ? SlurmExecutor.StatusOf(run, status)
            : Wait.Exited(status) ? JobStatus.Exited(Wait.ExitCode(status)) : JobStatus.Killed(Wait.TermSignal(status));
        if (process.Slurm is { } r && !r.Stream.Started)
            _log.LogError("{Job}: srun ended ({Srun}) before the job started on the cluster (no allocation, or the node could not run {Shim}); srun's own words are in the job's stderr",
                process.Job.Id, Reaper.Describe(status), SlurmExecutor.ShimPath);
        if (process.Slurm?.Stream.Garbled is { } garbled) _log.LogWarning("{Job}: {Problem}", process.Job.Id, garbled);
        var resources = new ResourceUsage(usage.UserTime.ToTimeSpan(), usage.SystemTime.ToTimeSpan(), usage.MaxRssKilobytes * 1024);
        string? lingering = null;
        if (process.Cgroup is { } cgroup && !JobCgroups.Remove(cgroup))
        {
            _lingering.Add(cgroup);
            lingering = cgroup;
            _log.LogDebug("{Job}: processes in {Cgroup} outlive the job", process.Job.Id, cgroup);
        }
        if (process.Job.KillSource != KillSource.None) _remnants[process.Job] = (process.Pid, lingering);
        _onExit(process.Job, jobStatus, resources);
    }

    /// <summary>Signals every process of the job: its process group, its cgroup, its
    /// descendants, and the daemon's orphans that carry its CHAQUM_IDENT; each once.</summary>
    public void Signal(Job job, int signal)
    {
        if (job.Pid <= 0) return;
        if (_live.TryGetValue(job, out var remote) && remote.Slurm is { } run)
        {
            Slurm.Signal(job, run, signal);
            return;
        }
        // The job's pid is our unreaped child, so neither it nor its group number can
        // belong to anyone else yet.
        if (!Signals.KillGroup(job.Pid, signal))
            _log.LogDebug("{Job}: {Signal} to process group {Pgid}: {Error}", job.Id, Signals.Name(signal), job.Pid, Errno.Text(Errno.Last));
        // Each process's group read from /proc once per signal, however many of the checks
        // below ask (a job with thousands of children in its group and cgroup).
        var groupOf = new Dictionary<int, bool>();
        bool InGroup(int pid)
        {
            if (!groupOf.TryGetValue(pid, out bool inGroup)) groupOf[pid] = inGroup = ProcStat.Group(pid) == job.Pid;
            return inGroup;
        }
        _live.TryGetValue(job, out var process);
        // The job's own process, if it moved to another group.
        if (!InGroup(job.Pid) && process?.Cgroup is null) Signals.Process(job.Pid, signal);
        var inCgroup = (process?.Cgroup is { } cgroup ? SignalCgroup(cgroup, signal, skip: InGroup) : new List<int>()).ToHashSet();
        int swept = inCgroup.Count(pid => !InGroup(pid));
        foreach (var (pid, parent) in Strays(job))
        {
            if (InGroup(pid) || inCgroup.Contains(pid)) continue;
            using var claimed = ClaimedProcess.Claim(pid, isOurs: p => ProcStat.ParentPid(p) == parent);
            if (claimed?.Signal(signal) == true) swept++;
        }
        if (swept > 0)
            _log.LogInformation("{Job}: {Signal} also to {Count} of its processes that left its process group",
                job.Id, Signals.Name(signal), swept);
    }

    /// <summary>What a killed job left behind when its own process died: the members of its
    /// cgroup, and of its process group that carry its CHAQUM_IDENT (the group's number
    /// cannot be handed to a new process while any member lives, and the mark tells our
    /// processes from a later group that took the number once they were all gone).</summary>
    public void SignalRemnants(Job job, int signal)
    {
        if (!_remnants.Remove(job, out var left)) return;
        int count = 0;
        if (left.Cgroup is { } cgroup) count += SignalCgroup(cgroup, signal).Count;
        foreach (int pid in ProcStat.GroupMembers(left.Pgid))
        {
            using var claimed = ClaimedProcess.Claim(pid, isOurs: p => ProcStat.Group(p) == left.Pgid
                && ProcStat.HasEnvironment(p, "CHAQUM_IDENT", job.Id));
            if (claimed?.Signal(signal) == true) count++;
        }
        if (count > 0)
            _log.LogWarning("{Job}: {Signal} to {Count} processes it left behind when it was killed", job.Id, Signals.Name(signal), count);
    }

    /// <summary>The job's processes that a signal to its group or cgroup may miss, each
    /// with the parent it was found under: its descendants, and our orphans marked with
    /// its id (with their descendants).</summary>
    private IEnumerable<(int Pid, int Parent)> Strays(Job job)
    {
        foreach (var found in ProcStat.DescendantsWithParents(job.Pid)) yield return found;
        int self = Environment.ProcessId;
        foreach (int orphan in Orphans())
        {
            if (!ProcStat.HasEnvironment(orphan, "CHAQUM_IDENT", job.Id)) continue;
            yield return (orphan, self);
            foreach (var found in ProcStat.DescendantsWithParents(orphan)) yield return found;
        }
    }

    /// <summary>Our children that are not running jobs: read once per loop turn (a stop
    /// signals every job in one turn).</summary>
    private List<int> Orphans()
    {
        if (_orphans is null)
        {
            var jobs = _live.Values.Select(p => p.Pid).ToHashSet();
            _orphans = ProcStat.Children(Environment.ProcessId).Where(pid => !jobs.Contains(pid)).ToList();
            _loop.Post(() => _orphans = null);
        }
        return _orphans;
    }

    /// <summary>SIGKILL through cgroup.kill; another signal to each member (but those
    /// skip says were signalled already) that is still in the cgroup once we hold it.
    /// Returns the members found.</summary>
    private static List<int> SignalCgroup(string cgroup, int signal, Func<int, bool>? skip = null)
    {
        var members = JobCgroups.Procs(cgroup);
        if (signal == Signals.SIGKILL)
        {
            JobCgroups.Kill(cgroup);
            return members;
        }
        foreach (int pid in members)
        {
            if (signal == 0 || skip?.Invoke(pid) == true) continue;
            using var claimed = ClaimedProcess.Claim(pid, isOurs: p => JobCgroups.Procs(cgroup).Contains(p));
            claimed?.Signal(signal);
        }
        return members;
    }

    /// <summary>At stop, when no job runs: signals what jobs left behind, in cgroups that
    /// outlived their job and among the daemon's descendants (every process below a
    /// subreaper is one: reparented orphans included). Returns how many were found.</summary>
    /// <summary>A child of the daemon's own that is no job's leftover (chaqum-web): it is
    /// stopped with the rest, without a warning.</summary>
    public Func<int, bool>? NotAJob { get; set; }

    public int SignalLeftovers(int signal)
    {
        int found = 0;
        var inCgroups = new HashSet<int>();
        foreach (var cgroup in _lingering.ToList())
        {
            if (JobCgroups.Remove(cgroup)) { _lingering.Remove(cgroup); continue; }
            var members = SignalCgroup(cgroup, signal);
            if (signal == Signals.SIGTERM)
                foreach (int pid in members) _log.LogWarning("killing pid {Pid}, left behind by a job (in {Cgroup})", pid, cgroup);
            inCgroups.UnionWith(members);
            found += members.Count;
        }
        foreach (var (pid, parent) in ProcStat.DescendantsWithParents(Environment.ProcessId))
        {
            if (inCgroups.Contains(pid)) continue;
            using var claimed = ClaimedProcess.Claim(pid, isOurs: p => ProcStat.ParentPid(p) == parent);
            if (claimed is null) continue;
            found++;
            if (signal == 0) continue;
            if (signal == Signals.SIGTERM && NotAJob?.Invoke(pid) != true) _log.LogWarning("killing pid {Pid}, left behind by a job", pid);
            claimed.Signal(signal);
        }
        return found;
    }

    /// <summary>At exit: closes every pipe still open.</summary>
    public void CloseAll()
    {
        foreach (var p in _live.Values.ToList())
        {
            p.Slurm?.Stream.Shutdown();
            p.Stdout.Shutdown();
            p.Stderr.Shutdown();
            p.Connection.Close();
        }
        _live.Clear();
    }

    public void Dispose()
    {
        foreach (var cgroup in _lingering)
            if (!JobCgroups.Remove(cgroup)) _log.LogWarning("cannot remove {Cgroup}: processes are left in it", cgroup);
        _cgroups?.Dispose();
        _spawner.Dispose();
    }
}
