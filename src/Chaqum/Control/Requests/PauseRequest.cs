using Chaqum.Control.Messages;
using Chaqum.Native;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>pause / resume {target} → a group (starts nothing new while paused) or a
/// running job (its process group gets SIGSTOP, then SIGCONT). A job id wins over a group
/// of the same name; {group: true} forces the group. "-" (or "") is the ungrouped jobs'
/// group; {all: true} pauses every group, the ungrouped jobs' and those made later
/// included, and resumes them all.</summary>
public sealed class PauseRequest(ControlServices services, bool pause) : IControlRequest
{
    private ControlVerb<PauseArgs, PauseResult> Verb => pause ? ControlVerbs.Pause : ControlVerbs.Resume;
    public string Name => Verb.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(Verb);
        var scheduler = services.Scheduler;
        if (args.All)
        {
            if (args.Target is not null) throw new ControlException($"{Name} --all takes no group or job");
            scheduler.PauseAll(pause);
            call.Reply(Verb, new PauseResult { Group = "*", Paused = pause });
            return;
        }
        var target = args.Target ?? throw new ControlException($"{Name} needs a group or a job id");
        if (!args.Group && services.Scheduler.Find(target) is { } job)
        {
            if (job.State != JobState.Running)
                throw new ControlException($"job {job.Id} is {job.State.Word()}, not running; pause its group to hold it back");
            services.Runner.Signal(job, pause ? Signals.SIGSTOP : Signals.SIGCONT);
            services.Scheduler.SetPaused(job, pause);
            call.Reply(Verb, new PauseResult { Job = job.Id, State = JobView.State(job) });
            return;
        }
        var group = target is "" or Scheduler.UngroupedName ? scheduler.DefaultGroup
            : scheduler.FindGroup(target) ?? throw new ControlException($"no job or group '{target}'");
        services.Scheduler.PauseGroup(group, pause);
        call.Reply(Verb, new PauseResult { Group = group.Label, Paused = group.Paused });
    }
}
