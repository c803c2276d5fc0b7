using System.Text.Json.Nodes;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>repeats → each repeat's schedule, next firing and last run.</summary>
public sealed class RepeatsRequest(ControlServices services) : IControlRequest
{
    public string Name => "repeats";

    public void Handle(ControlCall call) => call.Reply(new JsonObject { ["repeats"] = List(services) });

    public static JsonArray List(ControlServices services)
    {
        var repeats = services.Scheduler.Repeats.OrderBy(r => r.Id, StringComparer.Ordinal).Select(r => (JsonNode?)new JsonObject
        {
            ["id"] = r.Id,
            ["script"] = r.Script.Relative,
            ["args"] = new JsonArray(r.Args.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["schedule"] = Scheduler.Describe(r),
            ["zone"] = r.Cron?.Zone.Id,
            ["group"] = r.GroupName,
            ["overlap"] = r.AllowOverlap,
            ["owner"] = r.Owner?.Id,
            ["next_at"] = JobView.Time(r.NextAt),
            ["last_fired_at"] = JobView.Time(r.LastFiredAt),
            ["last_job"] = r.LastJob?.Id,
            ["last_state"] = r.LastJob is null ? null : JobView.State(r.LastJob),
            ["last_status"] = r.LastJob is { } j && j.State.IsFinished() ? j.Status.Wire : null,
            ["fired"] = r.Fired,
            ["skipped"] = r.Skipped,
        }).ToArray();
        return new JsonArray(repeats);
    }
}
