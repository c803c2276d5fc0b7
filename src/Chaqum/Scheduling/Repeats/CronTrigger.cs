namespace Chaqum.Scheduling.Repeats;

/// <summary>
/// A cron schedule in one time zone, turned into firing instants. The schedule itself
/// (Cronos) settles daylight-saving changes; this adds what a running repeat needs:
/// after the clock jumps (or the machine sleeps) missed firings are not replayed, the next
/// firing is computed from the present, so there is never a burst.
/// </summary>
public sealed class CronTrigger
{
    private readonly ICronSchedule _schedule;
    private DateTimeOffset _after;  // the last firing (or the reset): the next one comes strictly later

    public CronTrigger(ICronSchedule schedule, TimeZoneInfo zone, DateTimeOffset now)
    {
        _schedule = schedule;
        Zone = zone;
        Reset(now);
    }

    /// <summary>The zone the expression is read in (repeat -z, else the daemon's).</summary>
    public TimeZoneInfo Zone { get; }

    /// <summary>Forgets the past: the next firing comes after `now`.</summary>
    public void Reset(DateTimeOffset now) => _after = now;

    /// <summary>The next firing instant after the last one, or null if the schedule never fires.</summary>
    public DateTimeOffset? Next() => _schedule.NextAfter(_after, Zone);

    /// <summary>Records a firing; missed occurrences up to `now` are skipped.</summary>
    public void Fired(DateTimeOffset instant, DateTimeOffset now) => _after = instant > now ? instant : now;
}
