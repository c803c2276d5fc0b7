using System.Text.Json.Nodes;
using Chaqum.Native;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>kill {ids, signal} → kills jobs as the operator (any job, no descendant rule):
/// queued ones are cancelled, running ones get the signal and SIGKILL after the grace.
/// Answers at once with what was done; `wait` waits for the ends.</summary>
public sealed class KillRequest(ControlServices services) : IControlRequest
{
    public string Name => "kill";

    public void Handle(ControlCall call)
    {
        var ids = call.Request.Texts("ids");
        if (ids.Count == 0) throw new ControlException("kill needs job ids");
        int signal = Signals.SIGTERM;
        if (call.Request.Text("signal") is { } s)
            signal = Signals.Parse(s) ?? throw new ControlException($"unknown signal '{s}'");
        var jobs = ids.Select(id => services.Scheduler.Find(id) ?? throw new ControlException($"no job '{id}'")).ToList();
        var result = new JsonArray();
        foreach (var job in jobs)
        {
            string before = JobView.State(job);
            if (job.State.IsActive())
            {
                if (job.Paused) services.Runner.Signal(job, Signals.SIGCONT);
                services.Scheduler.Kill(job, signal, KillSource.Operator);
            }
            result.Add(new JsonObject { ["id"] = job.Id, ["was"] = before, ["state"] = JobView.State(job) });
        }
        call.Reply(new JsonObject { ["killed"] = result, ["signal"] = Signals.Name(signal) });
    }
}
