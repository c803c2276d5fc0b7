namespace Chaqum.Scheduling.Repeats;

/// <summary>
/// Turns a cron schedule in local wall-clock time into firing instants, following the
/// rules people expect across daylight-saving changes:
///  - a local time skipped by a spring-forward gap fires once, just after the gap;
///  - a local time repeated by a fall-back fires once, at its first occurrence;
///  - after the clock jumps (or the machine sleeps) missed firings are not replayed:
///    the next firing is computed from the present, so there is never a burst.
/// </summary>
public sealed class CronTrigger
{
    private readonly ICronSchedule _schedule;
    private readonly TimeZoneInfo _zone;
    private DateTime _cursor;            // local wall time of the last occurrence considered
    private DateTimeOffset _lastFiring;  // instant of the last firing (or of the reset)

    public CronTrigger(ICronSchedule schedule, TimeZoneInfo zone, DateTimeOffset now)
    {
        _schedule = schedule;
        _zone = zone;
        Reset(now);
    }

    /// <summary>Forgets the past: the next firing comes after `now`.</summary>
    public void Reset(DateTimeOffset now)
    {
        _cursor = TimeZoneInfo.ConvertTime(now, _zone).DateTime;
        _lastFiring = now;
    }

    /// <summary>The next firing instant after the last one, or null if the schedule never fires.</summary>
    public DateTimeOffset? Next()
    {
        // Bounded: a schedule cannot map more than a few hours of occurrences onto one instant.
        for (int guard = 0; guard < 100_000; guard++)
        {
            if (_schedule.NextAfter(_cursor) is not { } local) return null;
            _cursor = local;
            var instant = ToInstant(local);
            if (instant > _lastFiring) return instant;
        }
        return null;
    }

    /// <summary>Records a firing; missed occurrences up to `now` are skipped.</summary>
    public void Fired(DateTimeOffset instant, DateTimeOffset now)
    {
        _lastFiring = instant > now ? instant : now;
        var nowLocal = TimeZoneInfo.ConvertTime(now, _zone).DateTime;
        if (nowLocal > _cursor) _cursor = nowLocal;
    }

    private DateTimeOffset ToInstant(DateTime local)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (_zone.IsInvalidTime(local))
        {
            // In a spring-forward gap: the first valid minute after it.
            var t = local.AddTicks(-(local.Ticks % TimeSpan.TicksPerMinute));
            for (int i = 0; i < 24 * 60 && _zone.IsInvalidTime(t); i++) t = t.AddMinutes(1);
            return new DateTimeOffset(t, _zone.GetUtcOffset(t));
        }
        if (_zone.IsAmbiguousTime(local))
        {
            // Repeated hour: the first pass, i.e. the larger (pre-transition) offset.
            var offsets = _zone.GetAmbiguousTimeOffsets(local);
            return new DateTimeOffset(local, offsets.Max());
        }
        return new DateTimeOffset(local, _zone.GetUtcOffset(local));
    }
}
