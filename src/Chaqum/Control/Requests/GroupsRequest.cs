using System.Text.Json.Nodes;

namespace Chaqum.Control.Requests;

/// <summary>groups → each group's limits, running and queued counts, and what holds it.</summary>
public sealed class GroupsRequest(ControlServices services) : IControlRequest
{
    public string Name => "groups";

    public void Handle(ControlCall call) => call.Reply(new JsonObject { ["groups"] = List(services) });

    public static JsonArray List(ControlServices services)
    {
        var s = services.Scheduler;
        var groups = new[] { s.DefaultGroup }.Concat(s.Groups.OrderBy(g => g.Name, StringComparer.Ordinal))
            .Where(g => !g.IsDefault || g.Running > 0 || g.QueuedCount > 0)
            .Select(g => (JsonNode?)new JsonObject
            {
                ["name"] = g.IsDefault ? null : g.Name,
                ["max_procs"] = g.MaxProcs,
                ["running"] = g.Running,
                ["queued"] = g.QueuedCount,
                ["paused"] = g.Paused,
                ["barriers"] = g.Barriers.IsEmpty ? null : g.Barriers.ToString(),
                ["max_cpu"] = g.Barriers.MaxCpu,
                ["max_load"] = g.Barriers.MaxLoad,
                ["min_memory"] = g.Barriers.MinMemory,
                ["max_pressure"] = g.Barriers.MaxPressure,
                ["held_by"] = g.QueuedCount > 0 ? g.HeldBy : null,
            }).ToArray();
        return new JsonArray(groups);
    }
}
