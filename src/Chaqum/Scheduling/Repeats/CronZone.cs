using System.Security;

namespace Chaqum.Scheduling.Repeats;

/// <summary>The time zone of <c>repeat -z ZONE</c>: an IANA name such as Europe/Berlin,
/// read from the system's tz database (/usr/share/zoneinfo, Debian's tzdata). Without -z a
/// cron repeat runs in the daemon's zone (TZ, else /etc/localtime).</summary>
public static class CronZone
{
    /// <exception cref="FormatException">With a message fit for an E reply.</exception>
    public static TimeZoneInfo Find(string name)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        // Not found, a corrupt zone file, or a directory of zones ("Europe": SecurityException).
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or SecurityException
                                      or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new FormatException($"unknown time zone '{name}' (expected an IANA name such as Europe/Berlin)");
        }
    }
}
