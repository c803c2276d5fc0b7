using Chaqum.Control.Messages;
using Chaqum.Native;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>kill {ids | group, signal, preview} → kills jobs as the operator (any job, no
/// descendant rule): queued ones are cancelled, running ones get the signal and SIGKILL
/// after the grace. With a group, every unfinished job of it, and (for the confirmation
/// chaqumctl asks) the jobs outside it that wait on or depend on them; preview kills
/// nothing. Answers at once with what was done; `wait` waits for the ends.</summary>
public sealed class KillRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Kill.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.Kill);
        var ids = args.Ids ?? new List<string>();
        int signal = Signals.SIGTERM;
        if (args.Signal is { } s)
            signal = Signals.Parse(s) ?? throw new ControlException($"unknown signal '{s}'");
        List<Job> jobs;
        List<string>? concerns = null;
        if (args.Group is { } name)
        {
            if (ids.Count > 0) throw new ControlException("kill takes job ids or a group, not both");
            jobs = GroupMembers(name);
            concerns = Concerns(jobs);
        }
        else
        {
            if (ids.Count == 0) throw new ControlException("kill needs job ids");
            jobs = ids.Select(id => services.Scheduler.Find(id) ?? throw new ControlException($"no job '{id}'")).ToList();
        }
        var result = new List<Killed>();
        foreach (var job in jobs)
        {
            string before = JobView.State(job);
            if (job.State.IsActive() && !args.Preview)
            {
                // A stopped job (paused, or stopped by anyone) would hold the signal pending.
                if (job.Paused || before == "stopped") services.Runner.Signal(job, Signals.SIGCONT);
                services.Scheduler.Kill(job, signal, KillSource.Operator);
            }
            result.Add(new Killed(job.Id, before, JobView.State(job)));
        }
        call.Reply(ControlVerbs.Kill, new KillResult(result, Signals.Name(signal)) { Concerns = concerns });
    }

    /// <summary>The group's unfinished jobs, those not started first: cancelling them
    /// before the running ones end keeps a freed slot from starting one of them.</summary>
    private List<Job> GroupMembers(string name)
    {
        if (name.Length == 0) throw new ControlException("kill -g needs a group name");
        var group = services.Scheduler.FindGroup(name) ?? throw new ControlException($"no group '{name}' (chaqumctl groups lists them)");
        return services.Scheduler.Jobs.Where(j => ReferenceEquals(j.Group, group) && j.State.IsActive())
            .OrderBy(j => j.State == JobState.Running).ThenBy(j => j.Number).ToList();
    }

    /// <summary>Jobs outside the set that wait on or depend on a job of it: they are
    /// what a kill of the whole set would surprise.</summary>
    private static List<string> Concerns(List<Job> jobs)
    {
        var inside = new HashSet<Job>(jobs);
        var concerns = new List<string>();
        foreach (var job in jobs)
        {
            var waiters = job.Waiters.Where(w => !inside.Contains(w)).Select(w => w.Id).Distinct().ToList();
            var dependents = job.Dependents.Where(d => !inside.Contains(d)).Select(d => d.Id).ToList();
            if (waiters.Count > 0) concerns.Add($"{job.Id} is waited on by {string.Join(", ", waiters)}");
            if (dependents.Count > 0) concerns.Add($"{job.Id} must succeed before {string.Join(", ", dependents)} can start (they will end with N)");
        }
        return concerns;
    }
}
