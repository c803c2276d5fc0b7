namespace Chaqum.Scheduling.Repeats;

/// <summary>A parsed cron expression. The one seam between the scheduler and the cron
/// library (Cronos), so that the library can be swapped without touching the scheduler.</summary>
public interface ICronSchedule
{
    /// <summary>The first firing strictly after the instant `after`, reading the expression
    /// in `zone`'s wall-clock time, or null if it never fires again. Daylight-saving rules
    /// belong to this answer (docs/protocol.md, "Repeats"): a wall time skipped by a
    /// spring-forward fires once, at the end of the gap; a fixed wall time repeated by a
    /// fall-back fires once, on its first pass.</summary>
    DateTimeOffset? NextAfter(DateTimeOffset after, TimeZoneInfo zone);

    /// <summary>The calendar question alone: the first matching wall time strictly after
    /// `wallTime`, in a zone without daylight saving.</summary>
    DateTime? NextAfter(DateTime wallTime) =>
        NextAfter(new DateTimeOffset(DateTime.SpecifyKind(wallTime, DateTimeKind.Unspecified), TimeSpan.Zero), TimeZoneInfo.Utc)?.DateTime;
}
