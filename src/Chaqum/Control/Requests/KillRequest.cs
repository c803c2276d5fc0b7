using Chaqum.Control.Messages;
using Chaqum.Native;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>kill {ids, signal} → kills jobs as the operator (any job, no descendant rule):
/// queued ones are cancelled, running ones get the signal and SIGKILL after the grace.
/// Answers at once with what was done; `wait` waits for the ends.</summary>
public sealed class KillRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Kill.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.Kill);
        var ids = args.Ids ?? new List<string>();
        if (ids.Count == 0) throw new ControlException("kill needs job ids");
        int signal = Signals.SIGTERM;
        if (args.Signal is { } s)
            signal = Signals.Parse(s) ?? throw new ControlException($"unknown signal '{s}'");
        var jobs = ids.Select(id => services.Scheduler.Find(id) ?? throw new ControlException($"no job '{id}'")).ToList();
        var result = new List<Killed>();
        foreach (var job in jobs)
        {
            string before = JobView.State(job);
            if (job.State.IsActive())
            {
                // A stopped job (paused, or stopped by anyone) would hold the signal pending.
                if (job.Paused || before == "stopped") services.Runner.Signal(job, Signals.SIGCONT);
                services.Scheduler.Kill(job, signal, KillSource.Operator);
            }
            result.Add(new Killed(job.Id, before, JobView.State(job)));
        }
        call.Reply(ControlVerbs.Kill, new KillResult(result, Signals.Name(signal)));
    }
}
