using Chaqum.Control.History;
using Chaqum.History;
using Chaqum.Native;
using Microsoft.Extensions.Logging;

namespace Chaqum.Service;

/// <summary>
/// After an unclean end (kill -9, power loss, OOM kill) the history's live table and the
/// live journal still list the jobs that were queued or running. Before anything starts, we find the
/// process groups of those that ran and still exist, make sure by start time that they
/// are really ours, kill them (TERM, then KILL after the grace time), and record every
/// live job as "lost". After a clean stop the live table is empty and this does nothing.
/// </summary>
public static class Recovery
{
    /// <summary>Returns the number of jobs recorded lost (0 after a clean stop).</summary>
    public static int Run(string stateDir, string treeRoot, TimeSpan grace, ILogger log)
    {
        using var store = HistoryStore.Open(stateDir);
        if (store is null) return 0;
        var recorded = store.ReadLive();
        var live = Merge(recorded, LiveJournal.Read(stateDir), store);
        if (live.Count == 0) return 0;

        var leftovers = live.Where(l => l.Pid > 0 && IsOurs(l, log)).Select(l => l.Pid).ToList();
        var strays = Strays(live, treeRoot, leftovers);
        int killed = Kill(leftovers, strays, grace, log);

        var now = DateTimeOffset.Now;
        var lost = live.Select(l => new RunRecord(l) { EndedAt = now, Outcome = "lost" }).ToList();
        store.Write(lost, Array.Empty<LiveRecord>(), recorded.Select(l => l.Id).ToList());

        int running = live.Count(l => l.Pid > 0);
        log.LogWarning("recovered from an unclean stop: {Lost} jobs lost ({Running} were running, {Queued} queued); " +
            "killed {Killed} leftover process groups and processes; see chaqumctl history --lost",
            lost.Count, running, lost.Count - running, killed);
        foreach (var l in live)
            log.LogInformation("lost: {Job}: {Command}", l.Id, Chaqum.Client.ShellWords.Join(l.Args.Prepend(l.Script)));
        return lost.Count;
    }

    /// <summary>
    /// The jobs a crash cut short: those in the history's live table (written in batches,
    /// with each process's start time), and those only the live journal knows (it writes
    /// every event before it is acknowledged; see <see cref="LiveJournal"/>): still live
    /// there, or seen to finish but with no run recorded yet (what they ended with was
    /// in the batch the crash lost, so they count as lost too).
    /// </summary>
    private static List<LiveRecord> Merge(List<LiveRecord> recorded, List<(LiveRecord Job, bool Finished)> journal, HistoryStore store)
    {
        var known = recorded.Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        var extra = journal
            .Where(j => !known.Contains(j.Job.Id) && !(j.Finished && store.HasRun(j.Job.Id, j.Job.Attempt)))
            .Select(j => j.Finished ? j.Job with { Pid = 0 } : j.Job);
        return recorded.Concat(extra).OrderBy(l => l.EnqueuedAt).ThenBy(l => l.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Is the process group that the job's pid led still there, and ours? A live leader
    /// must have the recorded start time (else the pid was reused: never touched). A gone
    /// leader with members left in its group is ours: the kernel does not hand out a pid
    /// while a process group of that number exists, so the group outlived our leader.
    /// </summary>
    private static bool IsOurs(LiveRecord job, ILogger log)
    {
        var start = ProcStat.StartTicks(job.Pid);
        if (start is { } ticks && ProcStat.State(job.Pid) != 'Z')
        {
            if (job.StartTicks != 0 && ticks == job.StartTicks) return true;
            log.LogInformation("{Job}: pid {Pid} now belongs to another process; not touched", job.Id, job.Pid);
            return false;
        }
        var members = Alive(job.Pid);
        if (members.Count == 0) return false;
        if (job.StartTicks == 0 || members.Any(m => ProcStat.StartTicks(m) < job.StartTicks))
        {
            log.LogInformation("{Job}: process group {Pgid} cannot be proven ours; not touched", job.Id, job.Pid);
            return false;
        }
        return true;
    }

    private static List<int> Alive(int pgid) => ProcStat.GroupMembers(pgid).Where(p => ProcStat.State(p) is { } s && s != 'Z').ToList();

    /// <summary>
    /// Processes that left their job's process group (setsid, daemonizing) but still carry
    /// the tree in their environment (CHAQUM_TREE, inherited from the job) and started no
    /// earlier than the crashed run's first recorded job. Only one daemon runs per tree,
    /// and it is us, so these descend from the crashed run's jobs.
    /// </summary>
    private static List<int> Strays(List<LiveRecord> live, string treeRoot, List<int> groups)
    {
        var known = live.Where(l => l.StartTicks > 0).Select(l => l.StartTicks).ToList();
        if (known.Count == 0) return new List<int>();
        long since = known.Min();
        var marker = System.Text.Encoding.UTF8.GetBytes("CHAQUM_TREE=" + treeRoot + "\0");
        var inner = new byte[] { 0 }.Concat(marker).ToArray();
        var strays = new List<int>();
        int self = Environment.ProcessId;
        foreach (int pid in ProcStat.All())
        {
            if (pid == self) continue;
            if (groups.Contains((int)(ProcStat.Group(pid) ?? 0)) || ProcStat.State(pid) is null or 'Z') continue;
            if (ProcStat.StartTicks(pid) is not { } start || start < since) continue;
            byte[] env;
            try { env = File.ReadAllBytes($"/proc/{pid}/environ"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            // Each entry ends with NUL; the first has no NUL before it.
            if (env.AsSpan().StartsWith(marker) || env.AsSpan().IndexOf(inner) >= 0) strays.Add(pid);
        }
        return strays;
    }

    private static int Kill(List<int> groups, List<int> strays, TimeSpan grace, ILogger log)
    {
        if (groups.Count == 0 && strays.Count == 0) return 0;
        foreach (var g in groups)
        {
            log.LogWarning("killing leftover process group {Pgid} ({Members})", g, string.Join(" ", Alive(g)));
            Signals.KillGroup(g, Signals.SIGTERM);
        }
        foreach (var pid in strays)
        {
            log.LogWarning("killing leftover process {Pid}, which left its job's process group", pid);
            Signals.Process(pid, Signals.SIGTERM);
        }
        bool AnyLeft() => groups.Any(g => Alive(g).Count > 0) || strays.Any(p => ProcStat.State(p) is { } st && st != 'Z');
        var deadline = DateTime.UtcNow + grace;
        while (DateTime.UtcNow < deadline && AnyLeft()) Thread.Sleep(50);
        foreach (var g in groups.Where(g => Alive(g).Count > 0))
        {
            log.LogWarning("process group {Pgid} outlived SIGTERM; sending SIGKILL", g);
            Signals.KillGroup(g, Signals.SIGKILL);
        }
        foreach (var pid in strays.Where(p => ProcStat.State(p) is { } st && st != 'Z'))
            Signals.Process(pid, Signals.SIGKILL);
        return groups.Count + strays.Count;
    }
}
