using System.Globalization;
using Chaqum.Scheduling.Repeats;

namespace Chaqum.Scheduling;

/// <summary>
/// When a delayed job (enqueue -d / -A) becomes due, as a wall-clock instant. Pure: the
/// present and the daemon's zone come in as arguments, so the rules are unit-tested with
/// any clock and zone (docs/protocol.md, "Delayed and due jobs").
/// </summary>
public static class DueTime
{
    /// <summary>-d DELAY: the interval syntax of repeat -i, counted from now.</summary>
    /// <exception cref="FormatException">With a message fit for an E reply.</exception>
    public static DateTimeOffset After(string delay, DateTimeOffset now) => now + Interval.Parse(delay);

    // A date and a time, 'T' or a blank between; seconds and fractions optional.
    private static readonly string[] LocalForms =
    {
        "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF",
    };

    private static readonly string[] OffsetForms = LocalForms.SelectMany(f => new[] { f + "zzz", f + "'Z'" }).ToArray();

    /// <summary>-A TIME: an ISO 8601 date and time (with an offset or Z: that instant;
    /// without: a wall time in `zone`), or HH:MM / HH:MM:SS: the next time the clock of
    /// `zone` shows it, strictly after now (tomorrow if it is past today). A past ISO time
    /// is returned as it is: the job is due at once.</summary>
    /// <exception cref="FormatException">With a message fit for an E reply.</exception>
    public static DateTimeOffset At(string text, DateTimeOffset now, TimeZoneInfo zone)
    {
        const DateTimeStyles Strict = DateTimeStyles.None;
        var culture = CultureInfo.InvariantCulture;
        if (DateTimeOffset.TryParseExact(text, OffsetForms, culture, Strict, out var instant))
            return instant;
        if (DateTime.TryParseExact(text, LocalForms, culture, Strict, out var wall))
            return InZone(wall, zone);
        if (TimeOfDay(text) is { } clock)
        {
            var next = CronExpression.Parse($"{clock.Seconds} {clock.Minutes} {clock.Hours} * * *").NextAfter(now, zone);
            return next ?? throw new FormatException($"-A: '{text}' never comes");
        }
        throw new FormatException($"-A: '{text}' is not a time (use HH:MM, HH:MM:SS or an ISO 8601 date and time such as 2026-12-24T18:00 or 2026-12-24T18:00+01:00)");
    }

    /// <summary>HH:MM or HH:MM:SS, 00:00 to 23:59:59; null otherwise.</summary>
    private static TimeSpan? TimeOfDay(string text)
    {
        string[] forms = { "HH':'mm", "HH':'mm':'ss" };
        return DateTime.TryParseExact(text, forms, CultureInfo.InvariantCulture, DateTimeStyles.NoCurrentDateDefault, out var t)
            ? t.TimeOfDay : null;
    }

    /// <summary>A wall time of the zone as an instant, by the rules cron repeats follow: a
    /// time skipped by a spring-forward is taken as the end of the gap (so a job asked for
    /// at 02:30 on that night runs at 03:00, not never and not an hour early); a time that
    /// comes twice at a fall-back is taken at its first pass.</summary>
    public static DateTimeOffset InZone(DateTime wall, TimeZoneInfo zone)
    {
        wall = DateTime.SpecifyKind(wall, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(wall))
        {
            // Gaps start and end on whole minutes: the first valid minute is the gap's end.
            var t = new DateTime(wall.Ticks - wall.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Unspecified);
            while (zone.IsInvalidTime(t)) t = t.AddMinutes(1);
            return new DateTimeOffset(t, zone.GetUtcOffset(t));
        }
        if (zone.IsAmbiguousTime(wall))
        {
            var first = zone.GetAmbiguousTimeOffsets(wall).Max();
            return new DateTimeOffset(wall, first);
        }
        return new DateTimeOffset(wall, zone.GetUtcOffset(wall));
    }
}
