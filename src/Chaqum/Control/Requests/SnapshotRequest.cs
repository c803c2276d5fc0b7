using System.Text.Json.Nodes;

namespace Chaqum.Control.Requests;

/// <summary>snapshot → all state at one moment: jobs (with ended ones still held), groups,
/// repeats. Two snapshots can be compared with chaqumctl diff.</summary>
public sealed class SnapshotRequest(ControlServices services) : IControlRequest
{
    public string Name => "snapshot";

    public void Handle(ControlCall call)
    {
        var s = services.Scheduler;
        call.Reply(new JsonObject
        {
            ["taken_at"] = JobView.Time(DateTimeOffset.Now),
            ["tree"] = services.Tree.Root,
            ["daemon_pid"] = Environment.ProcessId,
            ["stopping"] = s.Stopping,
            ["jobs"] = new JsonArray(s.Jobs.OrderBy(j => j.Number).Select(j => (JsonNode?)services.View(j).ToJson()).ToArray()),
            ["groups"] = GroupsRequest.List(services),
            ["repeats"] = RepeatsRequest.List(services),
        });
    }
}
