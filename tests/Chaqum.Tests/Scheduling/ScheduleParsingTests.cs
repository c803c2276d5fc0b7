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
    public void Cron_next_occurrence(string expression, string next)
    {
        Assert.That(CronExpression.Parse(expression).NextAfter(From), Is.EqualTo(DateTime.Parse(next)));
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
    public void Bad_cron_expressions(string expression, string message)
    {
        var e = Assert.Throws<FormatException>(() => CronExpression.Parse(expression));
        Assert.That(e!.Message, Does.Contain(message));
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

    [Test]
    public void A_time_in_the_repeated_hour_fires_once()
    {
        var firings = Firings("30 2 * * *", Utc("2026-10-24T12:00:00"), 2);
        Assert.That(firings.Select(f => f.UtcDateTime), Is.EqualTo(new[]
        {
            new DateTime(2026, 10, 25, 0, 30, 0), // 02:30 CEST, the first pass
            new DateTime(2026, 10, 26, 1, 30, 0), // next day 02:30 CET
        }));
    }

    [Test]
    public void Frequent_firings_in_the_repeated_hour_do_not_repeat_it()
    {
        var firings = Firings("*/30 * * * *", Utc("2026-10-24T23:50:00"), 5); // 01:50 CEST
        Assert.That(firings.Select(f => TimeZoneInfo.ConvertTime(f, Berlin).ToString("HH:mm zzz")), Is.EqualTo(new[]
        {
            "02:00 +02:00", "02:30 +02:00", "03:00 +01:00", "03:30 +01:00", "04:00 +01:00",
        }));
    }
}
