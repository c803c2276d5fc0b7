using Chaqum.Control.Messages;

namespace Chaqum.Control.Requests;

/// <summary>groups → each group's limits, running and queued counts, and what holds it.</summary>
public sealed class GroupsRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Groups.Name;

    public void Handle(ControlCall call) => call.Reply(ControlVerbs.Groups, new GroupsResult(List(services)));

    public static List<GroupInfo> List(ControlServices services)
    {
        var s = services.Scheduler;
        return new[] { s.DefaultGroup }.Concat(s.Groups.OrderBy(g => g.Name, StringComparer.Ordinal))
            .Where(g => !g.IsDefault || g.Running > 0 || g.QueuedCount > 0 || g.Paused)
            .Select(g => new GroupInfo
            {
                Name = g.IsDefault ? null : g.Name,
                MaxProcs = g.MaxProcs,
                Running = g.Running,
                Queued = g.QueuedCount,
                Paused = g.Paused,
                Barriers = g.Barriers.IsEmpty ? null : g.Barriers.ToString(),
                MaxCpu = g.Barriers.MaxCpu,
                MaxLoad = g.Barriers.MaxLoad,
                MinMemory = g.Barriers.MinMemory,
                MaxPressure = g.Barriers.MaxPressure,
                HeldBy = g.QueuedCount > 0 ? g.HoldReason : null,
                BreakAfter = g.BreakAfter,
                ConsecutiveFailures = g.ConsecutiveFailures,
                PausedReason = g.PausedReason,
                Executor = g.Executor.IsLocal ? null : g.Executor.Name,
                ExecutorArgs = g.Executor.ExtraArgs.Count > 0 ? g.Executor.ExtraArgs : null,
            }).ToList();
    }
}
