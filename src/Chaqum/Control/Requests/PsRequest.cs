using Chaqum.Control.Messages;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>ps {all, group, state} → the jobs queued, pending, running or retrying (with all:
/// also the ended ones whose result the daemon still holds), oldest first.</summary>
public sealed class PsRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Ps.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.Ps);
        var jobs = services.Scheduler.Jobs
            .Where(j => args.All || j.State.IsActive())
            .Where(j => args.Group is null || j.Group.Name == args.Group || (args.Group == Scheduler.UngroupedName && j.Group.IsDefault))
            // The word ps shows ("held") or the state beneath it ("queued" finds held ones too).
            .Where(j => args.State is null || JobView.State(j) == args.State || j.State.Word() == args.State)
            .OrderBy(j => j.Number);
        var list = JobView.ListOf(jobs, services);
        // { "jobs": [...] } as JobsResult, written as it is made.
        call.ReplyStreamed(w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("jobs");
            list(w);
            w.WriteEndObject();
        });
    }
}
