using Chaqum.Scheduling.Repeats;
using Microsoft.Extensions.Logging;

namespace Chaqum.Scheduling;

/// <summary>Repeats: interval timers on the monotonic clock, cron on the wall clock.</summary>
public sealed partial class Scheduler
{
    private readonly Dictionary<string, Repeat> _repeats = new();
    private long _nextRepeat;

    public IEnumerable<Repeat> Repeats => _repeats.Values;

    public Repeat? FindRepeat(string id) => _repeats.GetValueOrDefault(id);

    /// <summary>Registers a repeat; its first firing comes one interval (or the next cron
    /// time) after now. Group limits given with it update the group once, now.</summary>
    public Repeat AddRepeat(RepeatRequest request)
    {
        OwnedByLoop();
        if (Stopping) throw new SchedulingException("the daemon is shutting down");
        if (request.GroupName is { Length: > 0 } name) UpdateGroup(name, request.Limits);
        else if (!request.Limits.IsEmpty) throw new SchedulingException("group limits need a group (-g GROUP)");

        CronTrigger? cron = null;
        if (request.Cron is { } schedule)
        {
            cron = new CronTrigger(schedule, request.Zone ?? _settings.Zone, _clock.WallNow);
            if (cron.Next() is null) throw new SchedulingException($"cron expression '{request.Schedule}' never fires");
        }

        var repeat = new Repeat
        {
            Id = $"repeat:{++_nextRepeat}",
            Script = request.Script,
            Args = request.Args,
            Owner = request.Owner,
            GroupName = request.GroupName,
            Limits = request.Limits,
            Options = request.Options,
            Priority = request.Priority,
            AllowOverlap = request.AllowOverlap,
            Every = request.Every,
            Cron = cron,
            Schedule = request.Schedule,
        };
        _repeats[repeat.Id] = repeat;
        if (repeat.Every is { } every) repeat.NextMono = _clock.Now + every;
        Arm(repeat);
        _log.LogInformation("{Repeat}: {Script} {Schedule}{Zone}, next at {Next:yyyy-MM-dd HH:mm:ss}",
            repeat.Id, repeat.Script.Relative, Describe(repeat), cron is null ? "" : " in " + cron.Zone.Id, repeat.NextAt);
        return repeat;
    }

    private void Arm(Repeat repeat)
    {
        if (repeat.Every is not null)
        {
            var delay = repeat.NextMono - _clock.Now;
            repeat.NextAt = _clock.WallNow + delay;
            repeat.Timer = _timers.After(delay, () => Fire(repeat, null));
            return;
        }
        var cron = repeat.Cron!;
        if (cron.Next() is not { } instant)
        {
            _log.LogWarning("{Repeat}: cron schedule has no further firing; removing it", repeat.Id);
            RemoveRepeat(repeat.Id);
            return;
        }
        repeat.NextAt = instant;
        repeat.Timer = _timers.AtWallTime(instant, () => Fire(repeat, instant), () =>
        {
            // The wall clock was set: recompute from the new present, fire nothing missed.
            _log.LogInformation("{Repeat}: wall clock changed; rescheduling", repeat.Id);
            cron.Reset(_clock.WallNow);
            Arm(repeat);
        });
    }

    private void Fire(Repeat repeat, DateTimeOffset? instant)
    {
        if (!_repeats.ContainsKey(repeat.Id) || Stopping) return;
        repeat.LastFiredAt = _clock.WallNow;

        if (!repeat.AllowOverlap && repeat.LastJob is { } last && last.State.IsActive())
        {
            repeat.Skipped++;
            _log.LogInformation("{Repeat}: firing skipped, {Job} is still {State}", repeat.Id, last.Id, last.State.Word());
        }
        else
        {
            try
            {
                repeat.LastJob = Enqueue(new EnqueueRequest(repeat.Script, repeat.Args)
                {
                    Owner = repeat.Owner,
                    Repeat = repeat,
                    GroupName = repeat.GroupName,
                    Options = repeat.Options,
                    Priority = repeat.Priority,
                });
                repeat.Fired++;
            }
            catch (SchedulingException e)
            {
                _log.LogError("{Repeat}: could not enqueue {Script}: {Reason}", repeat.Id, repeat.Script.Relative, e.Message);
            }
        }

        if (!_repeats.ContainsKey(repeat.Id)) return;
        if (repeat.Every is { } every)
        {
            // Fixed rate on the monotonic clock; if we fell behind, no catch-up burst.
            repeat.NextMono += every;
            if (repeat.NextMono <= _clock.Now) repeat.NextMono = _clock.Now + every;
        }
        else
        {
            repeat.Cron!.Fired(instant ?? _clock.WallNow, _clock.WallNow);
        }
        Arm(repeat);
    }

    public static string Describe(Repeat repeat) =>
        repeat.Every is { } every ? "every " + Interval.Format(every) : $"on cron '{repeat.Schedule}'";

    public bool RemoveRepeat(string id)
    {
        OwnedByLoop();
        if (!_repeats.Remove(id, out var repeat)) return false;
        repeat.Timer?.Cancel();
        repeat.Timer = null;
        repeat.NextAt = null;
        _log.LogInformation("{Repeat}: removed", id);
        ScheduleIdleCheck();
        return true;
    }

    private void StopRepeats()
    {
        foreach (var repeat in _repeats.Values)
        {
            repeat.Timer?.Cancel();
            repeat.Timer = null;
        }
        _repeats.Clear();
    }
}
