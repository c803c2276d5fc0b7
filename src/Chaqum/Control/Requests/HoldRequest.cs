using Chaqum.Control.Messages;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>hold / release {id} → a job that has not started (pending, scheduled, queued,
/// between retries) is kept from starting, or let go. Refused, with a sentence, for an
/// unknown job, a running one or one that has ended (the scheduler words it).</summary>
public sealed class HoldRequest : IControlRequest
{
    private readonly ControlServices _services;
    private readonly ControlVerb<HoldArgs, HoldResult> _verb;
    private readonly Action<Scheduler, Job> _change;

    public static HoldRequest Hold(ControlServices services) => new(services, ControlVerbs.Hold, (s, j) => s.Hold(j));
    public static HoldRequest Release(ControlServices services) => new(services, ControlVerbs.Release, (s, j) => s.Release(j));

    private HoldRequest(ControlServices services, ControlVerb<HoldArgs, HoldResult> verb, Action<Scheduler, Job> change) =>
        (_services, _verb, _change) = (services, verb, change);

    public string Name => _verb.Name;

    public void Handle(ControlCall call)
    {
        var id = call.ArgsOf(_verb).Id ?? throw new ControlException($"{Name} needs a job id");
        var job = _services.Scheduler.Find(id) ?? throw new ControlException($"no job '{id}' known to the daemon");
        _change(_services.Scheduler, job);
        call.Reply(_verb, new HoldResult(job.Id, JobView.State(job), job.Held));
    }
}
