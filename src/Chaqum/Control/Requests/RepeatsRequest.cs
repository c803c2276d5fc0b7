using Chaqum.Control.Messages;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>repeats → each repeat's schedule (or watched directories), state, next firing and last run.</summary>
public sealed class RepeatsRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Repeats.Name;

    public void Handle(ControlCall call) => call.Reply(ControlVerbs.Repeats, new RepeatsResult(List(services)));

    public static List<RepeatInfo> List(ControlServices services) =>
        services.Scheduler.Repeats.OrderBy(r => r.Id, StringComparer.Ordinal).Select(r => new RepeatInfo
        {
            Id = r.Id,
            Script = r.Script.Relative,
            Args = r.Args,
            Schedule = Scheduler.Describe(r),
            Zone = r.Cron?.Zone.Id,
            Group = r.GroupName,
            Overlap = r.AllowOverlap,
            Owner = r.Owner?.Id,
            NextAt = JobView.Time(r.NextAt),
            LastFiredAt = JobView.Time(r.LastFiredAt),
            LastJob = r.LastJob?.Id,
            LastState = r.LastJob is null ? null : JobView.State(r.LastJob),
            LastStatus = r.LastJob is { } j && j.State.IsFinished() ? j.Status.Wire : null,
            Fired = r.Fired,
            Skipped = r.Skipped,
            Disabled = r.Disabled,
            Watch = r.Watch?.Paths.Select(p => p.ToString()).ToList(),
            SettleSeconds = r.Watch?.Settle.TotalSeconds,
            PendingChanges = r.Watch?.PendingCount,
        }).ToList();
}
