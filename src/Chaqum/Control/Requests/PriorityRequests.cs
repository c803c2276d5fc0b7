using System.Text.Json.Nodes;
using Chaqum.Native;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>renice {id, nice} → the nice value of a running job's whole process group.</summary>
public sealed class ReniceRequest(ControlServices services) : IControlRequest
{
    public string Name => "renice";

    public void Handle(ControlCall call)
    {
        var id = call.Request.Text("id") ?? throw new ControlException("renice needs a job id");
        int nice = call.Request.Int("nice") ?? throw new ControlException("renice needs a nice value");
        var job = services.Scheduler.Find(id) ?? throw new ControlException($"no job '{id}'");
        if (job.State != JobState.Running) throw new ControlException($"job {id} is {job.State.Word()}, not running");
        if (Priority.SetGroup(job.Pid, nice) is { } error) throw new ControlException($"renice {id}: {error}");
        call.Reply(new JsonObject { ["id"] = id, ["nice"] = nice });
    }
}

/// <summary>prio {id, priority} → a queued job's place in its group's queue.</summary>
public sealed class PrioRequest(ControlServices services) : IControlRequest
{
    public string Name => "prio";

    public void Handle(ControlCall call)
    {
        var id = call.Request.Text("id") ?? throw new ControlException("prio needs a job id");
        int priority = call.Request.Int("priority") ?? throw new ControlException("prio needs a priority");
        var job = services.Scheduler.Find(id) ?? throw new ControlException($"no job '{id}'");
        if (job.State is not (JobState.Queued or JobState.Pending or JobState.Retrying))
            throw new ControlException($"job {id} is {job.State.Word()}; only a job that has not started can move in its queue");
        services.Scheduler.Reprioritise(job, priority);
        call.Reply(new JsonObject { ["id"] = id, ["priority"] = job.Priority });
    }
}
