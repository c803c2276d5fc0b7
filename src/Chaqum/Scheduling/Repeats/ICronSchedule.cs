namespace Chaqum.Scheduling.Repeats;

/// <summary>A parsed cron expression, in local wall-clock time. The one seam between the
/// scheduler and a cron library, so that the library can be swapped (the design named
/// Cronos, which our package feed does not serve; NCrontab.Signed stands in).</summary>
public interface ICronSchedule
{
    /// <summary>The first matching local time strictly after `local`, or null if none
    /// within the library's horizon.</summary>
    DateTime? NextAfter(DateTime local);
}
