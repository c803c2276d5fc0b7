using Chaqum.Scheduling.Repeats;

namespace Chaqum.Tests.Scheduling;

[TestFixture, CancelAfter(30_000)]
public class ScheduleParsingTests
{
    [TestCase("90s", 90)]
    [TestCase("15m", 900)]
    [TestCase("1h30m", 5400)]
    [TestCase("2d", 172800)]
    [TestCase("1w", 604800)]
    [TestCase("0.5s", 0.5)]
    [TestCase("250ms", 0.25)]
    [TestCase("10", 10)]
    [TestCase("1.5", 1.5)]
    [TestCase("5s0m0h0d0w", 5)]
    [TestCase("0s1m0h0d0w", 60)]
    [TestCase("1s0m0h0d0w", 1)]
    public void Intervals(string text, double seconds)
    {
        Assert.That(Interval.Parse(text).TotalSeconds, Is.EqualTo(seconds).Within(1e-9));
    }

    [TestCase("0s", "longer than zero")]
    [TestCase("0s0m0h0d0w", "longer than zero")]
    [TestCase("0", "longer than zero")]
    [TestCase("-5s", "expected a number")]
    [TestCase("banana", "expected a number")]
    [TestCase("5x", "unknown unit 'x'")]
    [TestCase("5s3", "number without unit")]
    [TestCase("", "empty interval")]
    public void Bad_intervals(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => Interval.Parse(text));
        Assert.That(e!.Message, Does.Contain(message));
    }

    private static readonly DateTime From = new(2026, 11, 22, 12, 0, 0); // a Sunday

    [TestCase("30 2 * * *", "2026-11-23 02:30:00")]
    [TestCase("*/15 * * * *", "2026-11-22 12:15:00")]
    [TestCase("0 9-17/4 * * mon-fri", "2026-11-23 09:00:00")]
    [TestCase("0 0 1 jan *", "2027-01-01 00:00:00")]
    [TestCase("0 12 * * 7", "2026-11-29 12:00:00")]
    [TestCase("0 12 * * Sun", "2026-11-29 12:00:00")]
    [TestCase("0 0 13 * fri", "2026-11-27 00:00:00")]
    [TestCase("0,30 * * * *", "2026-11-22 12:30:00")]
    [TestCase("*/1 * * * * *", "2026-11-22 12:00:01")]
    [TestCase("30 * * * * *", "2026-11-22 12:00:30")]
    [TestCase("@hourly", "2026-11-22 13:00:00")]
    [TestCase("@daily", "2026-11-23 00:00:00")]
    [TestCase("@midnight", "2026-11-23 00:00:00")]
    [TestCase("@weekly", "2026-11-29 00:00:00")]
    [TestCase("@monthly", "2026-12-01 00:00:00")]
    [TestCase("@yearly", "2027-01-01 00:00:00")]
    [TestCase("@annually", "2027-01-01 00:00:00")]
    [TestCase("0 0 * * 5-7", "2026-11-27 00:00:00")]
    [TestCase("0 0 * * sunday", "2026-11-29 00:00:00")]
    [TestCase("0 0 L * *", "2026-11-30 00:00:00")]           // last day of the month
    [TestCase("0 0 L-3 * *", "2026-11-27 00:00:00")]         // three days before it
    [TestCase("0 0 L 2 *", "2027-02-28 00:00:00")]
    [TestCase("0 0 5W * *", "2026-12-04 00:00:00")]          // Sat 12-05: the Friday before
    [TestCase("0 0 6W * *", "2026-12-07 00:00:00")]          // Sun 12-06: the Monday after
    [TestCase("0 0 1W * *", "2026-12-01 00:00:00")]          // a Tuesday already
    [TestCase("0 0 LW 1 *", "2027-01-29 00:00:00")]          // Sun 2027-01-31: last weekday is Fri 29
    [TestCase("0 0 * * 5#3", "2026-12-18 00:00:00")]         // third Friday (November's was the 20th)
    [TestCase("0 0 * * fri#3", "2026-12-18 00:00:00")]
    [TestCase("0 0 * * 1#1", "2026-12-07 00:00:00")]         // first Monday
    [TestCase("0 0 * * 0#4", "2026-11-22 00:00:00", "2026-11-21")] // fourth Sunday, 7 as 0
    [TestCase("0 0 * * 7#4", "2026-11-22 00:00:00", "2026-11-21")]
    [TestCase("0 0 * * 5L", "2026-11-27 00:00:00")]          // last Friday
    [TestCase("0 0 * * friL", "2026-11-27 00:00:00")]
    [TestCase("0 0 * * 0L", "2026-11-29 00:00:00")]          // last Sunday: 11-29
    [TestCase("0 30 2 L * *", "2026-11-30 02:30:00")]        // with leading seconds
    public void Cron_next_occurrence(string expression, string next, string? from = null)
    {
        var start = from is null ? From : DateTime.Parse(from);
        Assert.That(CronExpression.Parse(expression).NextAfter(start), Is.EqualTo(DateTime.Parse(next)));
    }

    [Test]
    public void Last_day_and_nth_weekday_or_with_the_other_day_field()
    {
        // Both day fields restricted: classic cron's OR holds for L and # too.
        var cron = CronExpression.Parse("0 0 L * 1#1"); // last day of the month, or the first Monday
        Assert.That(cron.NextAfter(From), Is.EqualTo(new DateTime(2026, 11, 30)));
        Assert.That(cron.NextAfter(new DateTime(2026, 11, 30)), Is.EqualTo(new DateTime(2026, 12, 7)));
        Assert.That(cron.NextAfter(new DateTime(2026, 12, 7)), Is.EqualTo(new DateTime(2026, 12, 31)));
    }

    [Test]
    public void Day_of_month_or_day_of_week_when_both_are_restricted()
    {
        // Classic cron: the 13th OR a Friday. 2026-11-27 is a Friday; 2026-12-13 is the 13th.
        var cron = CronExpression.Parse("0 0 13 * fri");
        Assert.That(cron.NextAfter(new DateTime(2026, 11, 28)), Is.EqualTo(new DateTime(2026, 12, 4)));
        Assert.That(cron.NextAfter(new DateTime(2026, 12, 12, 1, 0, 0)), Is.EqualTo(new DateTime(2026, 12, 13)));
    }

    [TestCase("61 * * * *", "Minute")]
    [TestCase("* 24 * * *", "Hour")]
    [TestCase("* * 32 * *", "Day")]
    [TestCase("* * * 13 *", "Month")]
    [TestCase("* * * * 8", "weekday 8 out of range")]
    [TestCase("* * * * funday", "unknown weekday")]
    [TestCase("* * *", "has 3 fields")]
    [TestCase("@reboot", "unknown cron macro")]
    [TestCase("a b c d e", "bad cron expression")]
    [TestCase("0 0 * * 1,5L", "'5L' must stand alone in the weekday field")]
    [TestCase("0 0 * * 5#3,1", "'5#3' must stand alone in the weekday field")]
    [TestCase("0 0 * * 5#6", "Days of week")]
    [TestCase("0 0 * * funday#2", "unknown weekday 'funday'")]
    [TestCase("0 0 * * 9L", "weekday 9 out of range")]
    [TestCase("0 0 L-40 * *", "Days of month")]
    [TestCase("0 0 32W * *", "Days of month")]
    [TestCase("0 0 L,15 * *", "bad cron expression")]
    public void Bad_cron_expressions(string expression, string message)
    {
        var e = Assert.Throws<FormatException>(() => CronExpression.Parse(expression));
        Assert.That(e!.Message, Does.Contain(message));
    }
}

[TestFixture, CancelAfter(30_000)]
public class CronZoneTests
{
    [TestCase("Europe/Berlin")]
    [TestCase("America/New_York")]
    [TestCase("Asia/Kolkata")]
    [TestCase("UTC")]
    [TestCase("Etc/GMT+5")]
    public void IANA_names_are_found_in_the_system_tz_database(string name)
    {
        // Needs tzdata (/usr/share/zoneinfo); InvariantGlobalization does not matter for IANA ids.
        Assert.That(CronZone.Find(name).Id, Is.EqualTo(name));
    }

    [TestCase("Nowhere/Atlantis")]
    [TestCase("")]
    [TestCase("Europe")]                 // a directory of zones
    [TestCase("../../etc/passwd")]
    [TestCase("/usr/share/zoneinfo/Europe/Berlin")]
    [TestCase("W. Europe Standard Time")] // a Windows id: not an IANA name
    [TestCase("Local")]
    public void Anything_else_is_an_unknown_zone(string name)
    {
        var e = Assert.Throws<FormatException>(() => CronZone.Find(name));
        Assert.That(e!.Message, Does.StartWith($"unknown time zone '{name}'"));
    }
}

/// <summary>Daylight saving time, in Europe/Berlin: on 2026-03-29 02:00 CET becomes 03:00
/// CEST (02:00-02:59 do not exist); on 2026-10-25 03:00 CEST becomes 02:00 CET (02:00-02:59
/// happen twice).</summary>
[TestFixture, CancelAfter(30_000)]
public class CronDaylightSavingTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    private static List<DateTimeOffset> Firings(string expression, DateTimeOffset from, int count)
    {
        var trigger = new CronTrigger(CronExpression.Parse(expression), Berlin, from);
        var list = new List<DateTimeOffset>();
        for (int i = 0; i < count; i++)
        {
            var next = trigger.Next()!.Value;
            list.Add(next);
            trigger.Fired(next, next);
        }
        return list;
    }

    private static DateTimeOffset Utc(string s) => DateTimeOffset.Parse(s + "Z");

    [Test]
    public void A_time_in_the_spring_gap_fires_once_just_after_the_gap()
    {
        var firings = Firings("30 2 * * *", Utc("2026-03-28T12:00:00"), 3);
        // 02:30 on 03-29 does not exist: 03:00 CEST, right after the gap.
        Assert.That(firings.Select(f => f.UtcDateTime), Is.EqualTo(new[]
        {
            new DateTime(2026, 3, 29, 1, 0, 0),
            new DateTime(2026, 3, 30, 0, 30, 0),
            new DateTime(2026, 3, 31, 0, 30, 0),
        }));
    }

    [Test]
    public void Frequent_firings_across_the_gap_fire_once_for_the_whole_gap()
    {
        var firings = Firings("*/15 * * * *", Utc("2026-03-29T00:40:00"), 4); // 01:40 CET
        Assert.That(firings.Select(f => TimeZoneInfo.ConvertTime(f, Berlin).ToString("HH:mm zzz")), Is.EqualTo(new[]
        {
            "01:45 +01:00", "03:00 +02:00", "03:15 +02:00", "03:30 +02:00",
        }));
    }

    [TestCase("30 2 * * *", 0)]
    [TestCase("15 30 2 * * *", 15)] // with leading seconds
    public void A_time_in_the_repeated_hour_fires_once(string expression, int second)
    {
        var firings = Firings(expression, Utc("2026-10-24T12:00:00"), 2);
        Assert.That(firings.Select(f => f.UtcDateTime), Is.EqualTo(new[]
        {
            new DateTime(2026, 10, 25, 0, 30, second), // 02:30 CEST, the first pass
            new DateTime(2026, 10, 26, 1, 30, second), // next day 02:30 CET
        }));
    }

    [Test]
    public void Frequent_firings_in_the_repeated_hour_keep_their_pace_in_real_time()
    {
        // Changed with the move to Cronos (docs/protocol.md, "Repeats"): an expression
        // whose hour is a wildcard or a step is a rate, and keeps firing every 30 real minutes
        // through the repeated hour, as Vixie cron does; before, 02:00 and 02:30 CET were
        // dropped, a 90-minute hole. A fixed wall time (02:30 daily) still fires once.
        var firings = Firings("*/30 * * * *", Utc("2026-10-24T23:50:00"), 6); // 01:50 CEST
        Assert.That(firings.Select(f => TimeZoneInfo.ConvertTime(f, Berlin).ToString("HH:mm zzz")), Is.EqualTo(new[]
        {
            "02:00 +02:00", "02:30 +02:00", "02:00 +01:00", "02:30 +01:00", "03:00 +01:00", "03:30 +01:00",
        }));
    }
}
