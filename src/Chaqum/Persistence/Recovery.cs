using Chaqum.History;
using Chaqum.Native;
using Chaqum.Processes;
using Microsoft.Extensions.Logging;

namespace Chaqum.Persistence;

/// <summary>
/// After an unclean end (kill -9, power loss, OOM kill) the live journal still lists the
/// jobs that were queued or running, with what identifies each one's process (pid, start
/// time, cgroup), and the runs the history had not taken yet. Before anything starts, we
/// record those runs as what they were, find the processes of the jobs that ran and
/// still exist, make sure each is really ours (see <see cref="ClaimedProcess"/>: a pid
/// remembered from before may belong to anyone by now), kill them (TERM, then KILL after
/// the grace time), and record every live job as "lost". After a clean stop there is no
/// journal, or one with runs only (the history could not be written at the stop): those
/// are recorded, and nothing counts as lost.
/// </summary>
public static class Recovery
{
    /// <summary>Returns the number of jobs recorded lost (0 after a clean stop).</summary>
    public static int Run(string stateDir, string treeRoot, TimeSpan grace, ILogger log)
    {
        var journal = LiveJournal.Read(stateDir);
        if (journal.Jobs.Count == 0 && journal.Runs.Count == 0) return 0;
        using var store = HistoryStore.Open(stateDir)!;
        var runs = journal.Runs.Where(r => !store.HasRun(r.Id, r.Attempt, r.EnqueuedAt)).ToList();
        // Lost: what is still live in the journal, and what it saw finish with no run
        // recorded anywhere (a journal of an earlier version, which kept no runs).
        var ran = journal.Runs.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var live = journal.Jobs
            .Where(j => !j.Finished || (!ran.Contains(j.Job.Id) && !store.HasRun(j.Job.Id, j.Job.Attempt, j.Job.EnqueuedAt)))
            .Select(j => j.Finished ? j.Job with { Pid = 0 } : j.Job)
            .OrderBy(l => l.EnqueuedAt).ThenBy(l => l.Id, StringComparer.Ordinal).ToList();

        int killed = 0;
        if (live.Count > 0)
        {
            var leftovers = new Leftovers(treeRoot, log);
            leftovers.Find(live, journal.Daemon);
            killed = leftovers.Kill(grace);
        }

        var now = DateTimeOffset.Now;
        var lost = live.Select(l => new RunRecord(l) { EndedAt = now, Outcome = "lost" }).ToList();
        store.Write(runs.Concat(lost).ToList());
        if (runs.Count > 0)
            log.LogInformation("recorded {Count} runs that the last run could not write to the history", runs.Count);
        if (lost.Count == 0) return 0;

        int running = live.Count(l => l.Pid > 0);
        log.LogWarning("recovered from an unclean stop: {Lost} jobs lost ({Running} were running, {Queued} queued); " +
            "killed {Killed} leftover processes; see chaqumctl history --lost",
            lost.Count, running, lost.Count - running, killed);
        foreach (var l in live)
            log.LogInformation("lost: {Job}: {Command}", l.Id, Chaqum.Words.ShellWords.Join(l.Args.Prepend(l.Script)));
        return lost.Count;
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
