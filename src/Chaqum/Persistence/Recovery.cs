using Chaqum.History;
using Chaqum.Native;
using Chaqum.Processes;
using Microsoft.Extensions.Logging;

namespace Chaqum.Persistence;

/// <summary>
/// What the last run's live journal says, dealt with before anything starts. After an
/// unclean end (kill -9, power loss, OOM kill) it lists the jobs that were queued or
/// running, with what identifies each one's process (pid, start time, cgroup), and the
/// runs the history had not taken yet. We record those runs as what they were, find the
/// processes of the jobs that ran and still exist, make sure each is really ours (see
/// <see cref="ClaimedProcess"/>: a pid remembered from before may belong to anyone by
/// now), kill them (TERM, then KILL after the grace time), and record the jobs that were
/// running as "lost". The jobs that waited (queued, pending, between retries, not yet
/// due) come back: they are handed to <see cref="Resumption"/>, which enqueues them again
/// with their ids; so do -R jobs that were running (their lost attempt counts). After an
/// orderly stop the journal ends with a "c" line and holds only the jobs kept on
/// purpose (and runs the history could not take): nothing is lost, nothing is hunted.
/// With --no-resume the jobs that would come back are recorded "dropped" instead.
/// </summary>
public static class Recovery
{
    /// <summary>What the next start takes from the last run.</summary>
    public sealed record Result(int Lost, List<LiveRecord> Resumable, List<LiveJournal.GroupRecord> Groups)
    {
        public static readonly Result Nothing = new(0, new(), new());
    }

    /// <summary>Lost: how many jobs were recorded lost (0 after a clean stop). Resumable:
    /// the jobs to enqueue again, in number order (empty with resume false).</summary>
    public static Result Run(string stateDir, string treeRoot, TimeSpan grace, ILogger log, bool resume = true)
    {
        var journal = LiveJournal.Read(stateDir);
        if (journal.Jobs.Count == 0 && journal.Runs.Count == 0 && journal.Plans.Count == 0) return Result.Nothing;
        using var store = HistoryStore.Open(stateDir)!;
        var runs = journal.Runs.Where(r => !store.HasRun(r.Id, r.Attempt, r.EnqueuedAt)).ToList();
        // Live: what is still live in the journal, and what it saw finish with no run
        // recorded anywhere (a journal of an earlier version, which kept no runs).
        var ran = journal.Runs.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var live = journal.Jobs
            .Where(j => !j.Finished || (!ran.Contains(j.Job.Id) && !store.HasRun(j.Job.Id, j.Job.Attempt, j.Job.EnqueuedAt)))
            .Select(j => j.Finished ? (j.Job with { Pid = 0 }, true) : (j.Job, false))
            .ToList();
        // Waiting: it never started this attempt, so it simply waits again. Again: -R, it
        // was running; its attempt is lost, and it runs again.
        var waiting = live.Where(l => !l.Item2 && l.Item1.Number is not null && l.Item1.Pid == 0).Select(l => l.Item1).ToList();
        var again = live.Where(l => !l.Item2 && l.Item1.Number is not null && l.Item1.Pid > 0 && l.Item1.Requeue).Select(l => l.Item1).ToList();
        var waitingIds = waiting.Select(w => w.Id).ToHashSet(StringComparer.Ordinal);
        var gone = live.Select(l => l.Item1).Where(l => !waitingIds.Contains(l.Id))
            .OrderBy(l => l.EnqueuedAt).ThenBy(l => l.Id, StringComparer.Ordinal).ToList();

        // The Slurm allocations of the roles of plans that had not ended: each holds a
        // node (or waits in Slurm's queue for one) until it is cancelled.
        var unended = journal.Clean ? new HashSet<string>()
            : journal.Plans.Where(p => !p.Ended).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var allocations = journal.Allocations.Where(a => unended.Contains(a.PlanId)).ToList();
        int killed = 0;
        if (!journal.Clean && (live.Count > 0 || allocations.Count > 0))
        {
            // First on the cluster: a leftover srun killed here would not end its job there.
            // A step in its role's allocation that had not reported its step id ends with
            // the allocation, below (its name is a step's, which scancel --name cannot find).
            var inAllocation = allocations.Select(a => (a.PlanId, a.Role)).ToHashSet();
            foreach (var job in gone.Where(l => l.Pid > 0 && l.Executor is not null))
                if (job.ExternalId is not null || job.Plan is null || job.Group is null || !inAllocation.Contains((job.Plan, job.Group)))
                    CancelOnCluster(job, treeRoot, log);
            // Then here: sruns, and sallocs still asking (TERM makes one withdraw its request).
            var leftovers = new Leftovers(treeRoot, log);
            leftovers.Find(gone, journal.Daemon);
            killed = leftovers.Kill(grace);
            foreach (var allocation in allocations) CancelAllocation(allocation, treeRoot, log);
        }

        var now = DateTimeOffset.Now;
        var lost = gone.Select(l => new RunRecord(l) { EndedAt = now, Outcome = "lost" }).ToList();
        var dropped = resume ? new List<RunRecord>()
            : waiting.Select(l => new RunRecord(l) { EndedAt = now, Outcome = "dropped" }).ToList();
        store.Write(runs.Concat(lost).Concat(dropped).ToList());
        // Plans the crashed daemon was running are lost with it: their steps that ended are
        // in the history (written just above, if the journal held them), the others are
        // recorded lost with the jobs; no step comes back (they are never kept).
        var lostPlans = journal.Clean ? new List<PlanRecord>() : journal.Plans.Where(p => !p.Ended && !store.HasPlan(p.Id))
            .Select(p => new PlanRecord
            {
                Id = p.Id,
                Name = p.Name,
                Outcome = "lost",
                Submitter = p.Submitter,
                SubmittedAt = p.SubmittedAt,
                EndedAt = now,
                Steps = p.Steps,
                StepsEnded = store.EndedSteps(p.Id),
                Reason = "the daemon running it was killed",
            }).ToList();
        store.WritePlans(lostPlans);
        foreach (var p in lostPlans)
            log.LogWarning("lost: {Plan}: {Ended} of {Steps} steps had ended; see chaqumctl history --plans", p.Id, p.StepsEnded, p.Steps);
        if (runs.Count > 0)
            log.LogInformation("recorded {Count} runs that the last run could not write to the history", runs.Count);
        if (dropped.Count > 0)
            log.LogWarning("--no-resume: {Count} queued jobs of the last run not taken back; recorded as dropped in the history " +
                "(chaqumctl history)", dropped.Count);
        if (lost.Count > 0)
        {
            int running = gone.Count(l => l.Pid > 0);
            log.LogWarning("recovered from an unclean stop: {Lost} jobs lost ({Running} were running, {Queued} queued); " +
                "killed {Killed} leftover processes; see chaqumctl history --lost",
                lost.Count, running, lost.Count - running, killed);
            foreach (var l in gone)
                log.LogInformation("lost: {Job}: {Command}", l.Id, Chaqum.Words.ShellWords.Join(l.Args.Prepend(l.Script)));
        }
        var resumable = resume ? waiting.Concat(again).OrderBy(l => l.Number).ToList() : new List<LiveRecord>();
        return new Result(lost.Count, resumable, journal.Groups);
    }

    /// <summary>A job of a Slurm group that was running when the daemon died: its srun
    /// may be gone, its processes on the node are not. scancel by Slurm job id, or by its
    /// unique name when the shim had not reported one yet (a pending allocation).</summary>
    private static void CancelOnCluster(LiveRecord job, string treeRoot, ILogger log)
    {
        string name = Processes.Slurm.SlurmExecutor.JobNameOf(treeRoot, job.Id);
        string which = job.ExternalId is { } id ? id.Contains('.') ? $"Slurm step {id}" : $"Slurm job {id}" : $"the Slurm job named {name}";
        if (Processes.Slurm.SlurmExecutor.CancelNow(treeRoot, job.ExternalId, name) is { } failure)
            log.LogError("{Job}: cannot cancel {Which} left by the last run: {Failure}; it may still run on {Node}",
                job.Id, which, failure, job.Node ?? "the cluster");
        else
            log.LogWarning("{Job}: cancelled {Which} left running on {Node} by the last run", job.Id, which, job.Node ?? "the cluster");
    }

    /// <summary>A plan role's allocation that a crashed run held or was asking for:
    /// cancelled by id once granted, else by its name (pending, or granted as the daemon
    /// died before it could write the id).</summary>
    private static void CancelAllocation(LiveJournal.AllocationLine allocation, string treeRoot, ILogger log)
    {
        string name = Processes.Slurm.SlurmExecutor.JobNameOf(treeRoot, $"{allocation.PlanId}:{allocation.Role}");
        string which = allocation.SlurmJobId is { } id ? $"Slurm allocation {id}" : $"the Slurm allocation named {name}";
        if (Processes.Slurm.SlurmExecutor.CancelNow(treeRoot, allocation.SlurmJobId, name) is { } failure)
            log.LogError("{Plan}: cannot cancel {Which} of role {Role} left by the last run: {Failure}; it may still hold a node",
                allocation.PlanId, which, allocation.Role, failure);
        else
            log.LogWarning("{Plan}: cancelled {Which} of role {Role} left by the last run", allocation.PlanId, which, allocation.Role);
    }

    /// <summary>The processes a crashed run left, each claimed (held by a pidfd after its
    /// identity was checked) before any signal, and the cgroups they are in.</summary>
    private sealed class Leftovers(string treeRoot, ILogger log)
    {
        private readonly Dictionary<int, ClaimedProcess> _claimed = new();
        private readonly HashSet<string> _cgroups = new(StringComparer.Ordinal);

        public void Find(List<LiveRecord> live, LiveJournal.DaemonRecord? daemon)
        {
            // The crashed daemon's cgroups: every job it started is in one (unless it got
            // none); the directory can only be that daemon's (its pid and start time).
            if (daemon?.Cgroup is { } root && JobCgroups.IsDaemonDirectory(root) && !JobCgroups.OwnerAlive(root))
                foreach (var dir in JobCgroups.JobDirectories(root)) AddCgroup(dir);
            foreach (var job in live.Where(l => l.Pid > 0))
            {
                if (job.Cgroup is { } cgroup && JobCgroups.IsJobCgroup(cgroup) && !JobCgroups.OwnerAlive(Path.GetDirectoryName(cgroup)!))
                    AddCgroup(cgroup);
                FindProcess(job);
            }
            // Processes that left their job's group and cgroup-less run (setsid, daemonizing)
            // but still carry the tree in their environment, started since the crashed
            // daemon (or its oldest running job). Only one daemon runs per tree, and it is
            // us, so these descend from the crashed run's jobs.
            long since = daemon?.StartTicks ?? live.Where(l => l.StartTicks > 0).Select(l => l.StartTicks).DefaultIfEmpty(0).Min();
            if (since <= 0) return;
            int self = Environment.ProcessId;
            foreach (int pid in ProcStat.All())
                if (pid != self && !_claimed.ContainsKey(pid))
                    Add(ClaimedProcess.Claim(pid, isOurs: p => ProcStat.StartTicks(p) >= since
                        && ProcStat.HasEnvironment(p, "CHAQUM_TREE", treeRoot)), "it left its job's process group");
        }

        /// <summary>The job's own process, by pid and start time; its process group, and
        /// its descendants.</summary>
        private void FindProcess(LiveRecord job)
        {
            if (job.StartTicks == 0)
            {
                log.LogInformation("{Job}: no start time recorded for pid {Pid}; only its cgroup and environment mark can tell", job.Id, job.Pid);
                return;
            }
            if (ProcStat.StartTicks(job.Pid) is { } ticks && ticks != job.StartTicks && ProcStat.State(job.Pid) is not (null or 'Z'))
            {
                log.LogInformation("{Job}: pid {Pid} now belongs to another process; not touched", job.Id, job.Pid);
                return;
            }
            if (Add(ClaimedProcess.Claim(job.Pid, job.StartTicks), $"job {job.Id}") is { } leader)
                foreach (var (pid, parent) in ProcStat.DescendantsWithParents(leader.Pid))
                    Add(ClaimedProcess.Claim(pid, isOurs: p => ProcStat.ParentPid(p) == parent), $"a descendant of job {job.Id}");
            // Its process group, with the leader or without: the kernel hands out no pid while
            // a group of that number exists, so members that started after our leader and
            // carry the tree's mark are the job's.
            foreach (int pid in ProcStat.GroupMembers(job.Pid))
                Add(ClaimedProcess.Claim(pid, isOurs: p => ProcStat.Group(p) == job.Pid && ProcStat.StartTicks(p) >= job.StartTicks
                    && ProcStat.HasEnvironment(p, "CHAQUM_TREE", treeRoot)), $"in the process group of job {job.Id}");
        }

        private void AddCgroup(string dir)
        {
            if (!_cgroups.Add(dir)) return;
            foreach (int pid in JobCgroups.Procs(dir))
                Add(ClaimedProcess.Claim(pid, isOurs: p => JobCgroups.Procs(dir).Contains(p)), $"in {dir}");
        }

        private ClaimedProcess? Add(ClaimedProcess? process, string why)
        {
            if (process is null) return null;
            if (_claimed.ContainsKey(process.Pid))
            {
                process.Dispose();
                return _claimed[process.Pid];
            }
            _claimed[process.Pid] = process;
            log.LogWarning("killing leftover process {Pid} ({Why})", process.Pid, why);
            return process;
        }

        /// <summary>TERM, the grace time, KILL (cgroup.kill for the cgroups, which also
        /// takes what forked meanwhile); then the empty cgroups are removed. Returns how
        /// many processes were killed.</summary>
        public int Kill(TimeSpan grace)
        {
            foreach (var p in _claimed.Values) p.Signal(Signals.SIGTERM);
            var deadline = DateTime.UtcNow + grace;
            while (DateTime.UtcNow < deadline && (_claimed.Values.Any(p => p.Alive) || _cgroups.Any(c => JobCgroups.Procs(c).Count > 0)))
                Thread.Sleep(50);
            foreach (var p in _claimed.Values.Where(p => p.Alive))
            {
                log.LogWarning("process {Pid} outlived SIGTERM; sending SIGKILL", p.Pid);
                p.Signal(Signals.SIGKILL);
            }
            foreach (var cgroup in _cgroups) JobCgroups.Kill(cgroup);
            deadline = DateTime.UtcNow + grace;
            foreach (var cgroup in _cgroups)
            {
                while (!JobCgroups.Remove(cgroup) && DateTime.UtcNow < deadline) Thread.Sleep(50);
                if (Directory.Exists(cgroup)) log.LogWarning("cannot remove {Cgroup}: processes are left in it", cgroup);
            }
            foreach (var parent in _cgroups.Select(Path.GetDirectoryName).Distinct()) if (parent is not null) JobCgroups.Remove(parent);
            int count = _claimed.Count;
            foreach (var p in _claimed.Values) p.Dispose();
            _claimed.Clear();
            return count;
        }
    }
}
