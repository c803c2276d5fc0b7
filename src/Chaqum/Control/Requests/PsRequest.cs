using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>ps {all, group} → the jobs queued, pending, running or retrying (with all:
/// also the ended ones whose result the daemon still holds), oldest first.</summary>
public sealed class PsRequest(ControlServices services) : IControlRequest
{
    public string Name => "ps";

    public void Handle(ControlCall call)
    {
        bool all = call.Request.Flag("all");
        string? group = call.Request.Text("group");
        var jobs = services.Scheduler.Jobs
            .Where(j => all || j.State.IsActive())
            .Where(j => group is null || j.Group.Name == group)
            .OrderBy(j => j.Number);
        var list = JobView.ListOf(jobs, services);
        call.ReplyStreamed(w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("jobs");
            list(w);
            w.WriteEndObject();
        });
    }
}
