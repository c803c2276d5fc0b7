using Chaqum.Scheduling.Repeats;
using Microsoft.Extensions.Logging;

namespace Chaqum.Scheduling;

/// <summary>Repeats: interval timers on the monotonic clock, cron on the wall clock, file
/// triggers (Scheduler.Triggers.cs); and what an operator does to them (disable, enable,
/// trigger, remove).</summary>
public sealed partial class Scheduler
{
    private readonly Dictionary<string, Repeat> _repeats = new();
    private long _nextRepeat;

    public IEnumerable<Repeat> Repeats => _repeats.Values;

    public Repeat? FindRepeat(string id) => _repeats.GetValueOrDefault(id);

    /// <summary>Registers a repeat; its first firing comes one interval (or the next cron
    /// time, or the first settled change) after now. Group limits given with it update the
    /// group once, now.</summary>
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

        var id = $"repeat:{_nextRepeat + 1}";
        FileTrigger? trigger = null;
        if (request.Watch is { Count: > 0 } paths)
            trigger = new FileTrigger { Paths = paths, Settle = request.Settle };

        var repeat = new Repeat
        {
            Id = id,
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
            Watch = trigger,
            Schedule = request.Schedule,
        };
        // Watching may be refused (a missing directory, no inotify watches left): before
        // the repeat exists, so that a refusal leaves nothing behind.
        if (trigger is not null) StartWatching(repeat, trigger);
        _nextRepeat++;
        _repeats[repeat.Id] = repeat;
        RepeatChanged?.Invoke(repeat, "added");
        if (trigger is not null)
        {
            _log.LogInformation("{Repeat}: {Script} {Schedule}", repeat.Id, repeat.Script.Relative, Describe(repeat));
            return repeat;
        }
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

    /// <summary>A clock repeat's time has come.</summary>
    private void Fire(Repeat repeat, DateTimeOffset? instant)
    {
        if (!_repeats.ContainsKey(repeat.Id) || Stopping) return;
        repeat.LastFiredAt = _clock.WallNow;

        if (repeat.Disabled)
        {
            repeat.Skipped++;
            _log.LogDebug("{Repeat}: firing skipped, disabled", repeat.Id);
        }
        else if (repeat.Busy)
        {
            repeat.Skipped++;
            _log.LogInformation("{Repeat}: firing skipped, {Job} is still {State}", repeat.Id, repeat.LastJob!.Id, repeat.LastJob.State.Word());
        }
        else
        {
            Launch(repeat, null);
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

    /// <summary>Enqueues one firing. A refusal (its group's limits, a shutdown) is logged:
    /// a repeat has nobody to answer to.</summary>
    private Job? Launch(Repeat repeat, ChangeBatch? batch)
    {
        repeat.LastFiredAt = _clock.WallNow;
        try
        {
            var job = Enqueue(new EnqueueRequest(repeat.Script, repeat.Args)
            {
                Owner = repeat.Owner,
                Repeat = repeat,
                GroupName = repeat.GroupName,
                Options = repeat.Options,
                Priority = repeat.Priority,
                Changes = batch,
            });
            repeat.LastJob = job;
            repeat.Fired++;
            return job;
        }
        catch (SchedulingException e)
        {
            _log.LogError("{Repeat}: could not enqueue {Script}: {Reason}", repeat.Id, repeat.Script.Relative, e.Message);
            if (batch is not null) _watches?.Discard(batch);
            return null;
        }
    }

    public static string Describe(Repeat repeat) =>
        repeat.Watch is { } w ? "on changes in " + string.Join(", ", w.Paths) + $" (settle {Format(w.Settle)})"
        : repeat.Every is { } every ? "every " + Interval.Format(every) : $"on cron '{repeat.Schedule}'";

    /// <summary>Keeps or stops skipping a repeat's firings; its schedule runs on.</summary>
    public void SetRepeatEnabled(Repeat repeat, bool enabled)
    {
        OwnedByLoop();
        if (repeat.Disabled == !enabled) return;
        repeat.Disabled = !enabled;
        if (!enabled && repeat.Watch is { } trigger) DropPending(trigger);
        _log.LogInformation("{Repeat}: {State} by the operator", repeat.Id, enabled ? "enabled" : "disabled");
        RepeatChanged?.Invoke(repeat, enabled ? "enabled" : "disabled");
    }

    /// <summary>What an operator's trigger did.</summary>
    public sealed record TriggerOutcome(Job? Job, string? NotFired, bool Deferred);

    /// <summary>Fires a repeat now, outside its schedule (which is left as it is), even if
    /// disabled. The overlap rule holds as for a scheduled firing: while the last firing
    /// is queued or running and overlap is not allowed, a clock repeat's firing is skipped
    /// and a file trigger's waits for it to end.</summary>
    public TriggerOutcome TriggerRepeat(Repeat repeat)
    {
        OwnedByLoop();
        if (Stopping) throw new SchedulingException("the daemon is shutting down");
        if (repeat.Busy)
        {
            var last = repeat.LastJob!;
            string why = $"{last.Id} is still {last.State.Word()} and {repeat.Id} does not allow overlap (-o)";
            if (repeat.Watch is { } trigger)
            {
                trigger.RunAfterCurrent = true;
                _log.LogInformation("{Repeat}: triggered by the operator; fires when {Job} ends", repeat.Id, last.Id);
                return new TriggerOutcome(null, why, Deferred: true);
            }
            repeat.Skipped++;
            _log.LogInformation("{Repeat}: operator's trigger skipped: {Reason}", repeat.Id, why);
            return new TriggerOutcome(null, why, Deferred: false);
        }
        _log.LogInformation("{Repeat}: triggered by the operator", repeat.Id);
        var job = repeat.Watch is { } t ? FireTrigger(repeat, t) : Launch(repeat, null);
        return job is null
            ? new TriggerOutcome(null, "the firing could not be enqueued (see the daemon's log)", Deferred: false)
            : new TriggerOutcome(job, null, Deferred: false);
    }

    public bool RemoveRepeat(string id)
    {
        OwnedByLoop();
        if (!_repeats.Remove(id, out var repeat)) return false;
        Quiesce(repeat);
        repeat.NextAt = null;
        _log.LogInformation("{Repeat}: removed", id);
        RepeatChanged?.Invoke(repeat, "removed");
        ScheduleIdleCheck();
        return true;
    }

    /// <summary>Stops a repeat's timer and watch: nothing fires any more.</summary>
    private void Quiesce(Repeat repeat)
    {
        repeat.Timer?.Cancel();
        repeat.Timer = null;
        if (repeat.Watch is { } trigger) StopWatching(trigger);
    }

    private void StopRepeats()
    {
        foreach (var repeat in _repeats.Values) Quiesce(repeat);
        _repeats.Clear();
    }
}
