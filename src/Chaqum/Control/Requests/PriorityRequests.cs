using Chaqum.Control.Messages;
using Chaqum.Native;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>renice {id, nice} → the nice value of a running job's whole process group.</summary>
public sealed class ReniceRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Renice.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.Renice);
        var id = args.Id ?? throw new ControlException("renice needs a job id");
        int nice = args.Nice ?? throw new ControlException("renice needs a nice value");
        var job = services.Scheduler.Find(id) ?? throw new ControlException($"no job '{id}'");
        if (job.State != JobState.Running) throw new ControlException($"job {id} is {job.State.Word()}, not running");
        if (Priority.SetGroup(job.Pid, nice) is { } error) throw new ControlException($"renice {id}: {error}");
        call.Reply(ControlVerbs.Renice, new ReniceResult(id, nice));
    }
}

/// <summary>prio {id, priority} → a queued job's place in its group's queue.</summary>
public sealed class PrioRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Prio.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.Prio);
        var id = args.Id ?? throw new ControlException("prio needs a job id");
        int priority = args.Priority ?? throw new ControlException("prio needs a priority");
        var job = services.Scheduler.Find(id) ?? throw new ControlException($"no job '{id}'");
        if (job.State is not (JobState.Queued or JobState.Pending or JobState.Scheduled or JobState.Retrying))
            throw new ControlException($"job {id} is {job.State.Word()}; only a job that has not started can move in its queue");
        services.Scheduler.Reprioritise(job, priority);
        call.Reply(ControlVerbs.Prio, new PrioResult(id, job.Priority));
    }
}
