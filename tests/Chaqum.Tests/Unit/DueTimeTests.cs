using Chaqum.Protocol;
using Chaqum.Protocol.Commands;
using Chaqum.Scheduling;

namespace Chaqum.Tests.Unit;

/// <summary>enqueue -d / -A: when a job becomes due, from a given present and zone.</summary>
[TestFixture, CancelAfter(30_000)]
public class DueTimeTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    // 2026-11-22 12:00 UTC = 13:00 in Berlin (CET, +01:00).
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public void Delay_uses_the_interval_syntax_from_now()
    {
        Assert.That(DueTime.After("90s", Now), Is.EqualTo(Now.AddSeconds(90)));
        Assert.That(DueTime.After("1h30m", Now), Is.EqualTo(Now.AddMinutes(90)));
        Assert.That(DueTime.After("2.5", Now), Is.EqualTo(Now.AddSeconds(2.5)));
    }

    [Test]
    public void Clock_time_is_the_next_time_the_daemons_clock_shows_it()
    {
        Assert.That(DueTime.At("14:30", Now, Berlin), Is.EqualTo(new DateTimeOffset(2026, 11, 22, 14, 30, 0, TimeSpan.FromHours(1))));
        Assert.That(DueTime.At("02:00", Now, Berlin), Is.EqualTo(new DateTimeOffset(2026, 11, 23, 2, 0, 0, TimeSpan.FromHours(1))), "past today: tomorrow");
        Assert.That(DueTime.At("13:00", Now, Berlin), Is.EqualTo(new DateTimeOffset(2026, 11, 23, 13, 0, 0, TimeSpan.FromHours(1))), "now itself: the next one");
        Assert.That(DueTime.At("13:00:30", Now, Berlin), Is.EqualTo(new DateTimeOffset(2026, 11, 22, 13, 0, 30, TimeSpan.FromHours(1))));
        Assert.That(DueTime.At("12:30", Now, TimeZoneInfo.Utc), Is.EqualTo(Now.AddMinutes(30)), "another zone, another clock");
    }

    [Test]
    public void Clock_time_across_daylight_saving_changes()
    {
        // 2027-03-28: Berlin skips 02:00-03:00. 02:30 that night is taken as 03:00 (CEST).
        var beforeSpring = new DateTimeOffset(2027, 3, 27, 23, 0, 0, TimeSpan.Zero);
        Assert.That(DueTime.At("02:30", beforeSpring, Berlin), Is.EqualTo(new DateTimeOffset(2027, 3, 28, 3, 0, 0, TimeSpan.FromHours(2))));
        // 2026-10-25: 02:30 comes twice; the first pass (CEST, +02:00) counts.
        var beforeAutumn = new DateTimeOffset(2026, 10, 24, 22, 0, 0, TimeSpan.Zero);
        Assert.That(DueTime.At("02:30", beforeAutumn, Berlin), Is.EqualTo(new DateTimeOffset(2026, 10, 25, 2, 30, 0, TimeSpan.FromHours(2))));
    }

    [Test]
    public void Iso_times_with_an_offset_are_that_instant_and_without_one_a_wall_time_of_the_zone()
    {
        Assert.That(DueTime.At("2026-12-24T18:00+01:00", Now, TimeZoneInfo.Utc), Is.EqualTo(new DateTimeOffset(2026, 12, 24, 17, 0, 0, TimeSpan.Zero)));
        Assert.That(DueTime.At("2026-12-24T18:00:05Z", Now, Berlin), Is.EqualTo(new DateTimeOffset(2026, 12, 24, 18, 0, 5, TimeSpan.Zero)));
        Assert.That(DueTime.At("2026-12-24T18:00", Now, Berlin), Is.EqualTo(new DateTimeOffset(2026, 12, 24, 18, 0, 0, TimeSpan.FromHours(1))));
        Assert.That(DueTime.At("2026-12-24 18:00:00.5", Now, Berlin), Is.EqualTo(new DateTimeOffset(2026, 12, 24, 18, 0, 0, 500, TimeSpan.FromHours(1))));
        Assert.That(DueTime.At("2027-03-28T02:30", Now, Berlin), Is.EqualTo(new DateTimeOffset(2027, 3, 28, 3, 0, 0, TimeSpan.FromHours(2))), "in the gap: its end");
        Assert.That(DueTime.At("2020-01-01T00:00Z", Now, Berlin), Is.LessThan(Now), "a past time is kept: the job is due at once");
    }

    private static ParsedOptions Words(params string[] words) =>
        OptionParser.Parse(words, 0, JobOptionsParser.EnqueueSpec, out _)!;

    [TestCase("-d", "", "-d (delay): empty interval")]
    [TestCase("-d", "soon", "-d (delay): bad interval 'soon'")]
    [TestCase("-d", "-5s", "-d (delay): bad interval '-5s'")]
    [TestCase("-d", "0", "-d (delay): interval '0' must be longer than zero")]
    [TestCase("-d", "200y", "-d (delay): bad interval '200y': unknown unit 'y'")]
    [TestCase("-A", "25:00", "-A: '25:00' is not a time")]
    [TestCase("-A", "tomorrow", "-A: 'tomorrow' is not a time")]
    [TestCase("-A", "2026-02-30T10:00", "-A: '2026-02-30T10:00' is not a time")]
    [TestCase("-A", "12:00+99:00", "-A: '12:00+99:00' is not a time")]
    public void Bad_values_are_refused_with_a_reason(string option, string value, string reason)
    {
        var e = Assert.Throws<ProtocolException>(() => JobOptionsParser.Due(Words(option, value, "--", "s"), Now, Berlin));
        Assert.That(e!.Message, Does.StartWith(reason));
    }

    [Test]
    public void Delay_and_time_together_are_refused()
    {
        var e = Assert.Throws<ProtocolException>(() => JobOptionsParser.Due(Words("-d", "1m", "-A", "12:00", "--", "s"), Now, Berlin));
        Assert.That(e!.Message, Is.EqualTo("-d (delay) and -A (at a time) exclude each other"));
        Assert.That(JobOptionsParser.Due(Words("--", "s"), Now, Berlin), Is.Null);
    }

    [Test]
    public void Hold_urgent_and_requeue_are_flags()
    {
        var o = Words("-HUR", "--", "s");
        Assert.That(o.Has('H') && o.Has('U') && o.Has('R'), Is.True);
        Assert.That(JobOptionsParser.Options(o).Requeue, Is.True);
        Assert.That(JobOptionsParser.Options(Words("--", "s")), Is.SameAs(JobOptions.Default), "no options: the shared instance");
    }
}
