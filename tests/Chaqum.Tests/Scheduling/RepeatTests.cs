using Chaqum.Scheduling;
using Chaqum.Scheduling.Repeats;

namespace Chaqum.Tests.Scheduling;

[TestFixture, CancelAfter(30_000)]
public class RepeatTests
{
    private static RepeatRequest Every(Harness h, TimeSpan interval, bool overlap = false) =>
        new(Harness.Script("tick"), Array.Empty<string>(), interval.ToString()) { Every = interval, Owner = h.Init, AllowOverlap = overlap };

    [Test]
    public void Interval_repeat_fires_one_interval_after_registration_and_then_every_interval()
    {
        var h = new Harness();
        var repeat = h.Scheduler.AddRepeat(Every(h, TimeSpan.FromSeconds(10)));
        h.Time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.That(repeat.Fired, Is.EqualTo(0));
        h.Time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(repeat.Fired, Is.EqualTo(1));
        var first = repeat.LastJob!;
        Assert.That(first.Parent, Is.Null, "repeat firings have no CHAQUM_PARENT");
        Assert.That(first.IsDescendantOf(h.Init), Is.True, "but belong to the job that registered the repeat");
        h.Exit(first);
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.That(repeat.Fired, Is.EqualTo(2), "only one firing while the previous run was still running");
        Assert.That(repeat.Skipped, Is.EqualTo(2));
    }

    [Test]
    public void Overlap_allowed_with_o()
    {
        var h = new Harness();
        var repeat = h.Scheduler.AddRepeat(Every(h, TimeSpan.FromSeconds(1), overlap: true));
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(repeat.Fired, Is.EqualTo(5));
        Assert.That(repeat.Skipped, Is.EqualTo(0));
    }

    [Test]
    public void Unrepeat_lets_the_daemon_go_idle()
    {
        var h = new Harness();
        var repeat = h.Scheduler.AddRepeat(Every(h, TimeSpan.FromSeconds(1)));
        h.Exit(h.Init);
        h.Time.RunDue();
        Assert.That(h.IdleRaised, Is.EqualTo(0), "a registered repeat keeps the daemon alive");
        Assert.That(h.Scheduler.RemoveRepeat(repeat.Id), Is.True);
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(h.IdleRaised, Is.EqualTo(1));
        Assert.That(repeat.Fired, Is.EqualTo(0));
        Assert.That(h.Scheduler.RemoveRepeat(repeat.Id), Is.False);
    }

    [Test]
    public void Cron_repeat_fires_on_the_wall_clock()
    {
        var h = new Harness();
        h.Time.WallNow = new DateTimeOffset(2026, 11, 22, 12, 0, 30, TimeSpan.Zero);
        var repeat = h.Scheduler.AddRepeat(new RepeatRequest(Harness.Script("tick"), Array.Empty<string>(), "* * * * *")
        {
            Cron = CronExpression.Parse("* * * * *"),
            Owner = h.Init,
        });
        Assert.That(repeat.NextAt, Is.EqualTo(new DateTimeOffset(2026, 11, 22, 12, 1, 0, TimeSpan.Zero)));
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.That(repeat.Fired, Is.EqualTo(1));
        h.Exit(repeat.LastJob!);
        h.Time.Advance(TimeSpan.FromSeconds(60));
        Assert.That(repeat.Fired, Is.EqualTo(2));
    }

    [Test]
    public void A_wall_clock_jump_does_not_fire_a_cron_repeat_many_times()
    {
        var h = new Harness();
        h.Time.WallNow = new DateTimeOffset(2026, 11, 22, 12, 0, 30, TimeSpan.Zero);
        var repeat = h.Scheduler.AddRepeat(new RepeatRequest(Harness.Script("tick"), Array.Empty<string>(), "* * * * *")
        {
            Cron = CronExpression.Parse("* * * * *"),
            Owner = h.Init,
            AllowOverlap = true,
        });
        h.Time.SetWallClock(new DateTimeOffset(2026, 11, 22, 17, 0, 30, TimeSpan.Zero));
        Assert.That(repeat.Fired, Is.EqualTo(0), "a jump forward fires nothing missed");
        Assert.That(repeat.NextAt, Is.EqualTo(new DateTimeOffset(2026, 11, 22, 17, 1, 0, TimeSpan.Zero)));
        h.Time.SetWallClock(new DateTimeOffset(2026, 11, 22, 9, 0, 30, TimeSpan.Zero));
        Assert.That(repeat.NextAt, Is.EqualTo(new DateTimeOffset(2026, 11, 22, 9, 1, 0, TimeSpan.Zero)), "a jump back reschedules from the new present");
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.That(repeat.Fired, Is.EqualTo(1));
    }

    [Test]
    public void Repeat_group_limits_update_the_group_and_firings_join_it()
    {
        var h = new Harness();
        var repeat = h.Scheduler.AddRepeat(Every(h, TimeSpan.FromSeconds(1), overlap: true) with
        {
            GroupName = "r",
            Limits = new GroupLimits { MaxProcs = 2 },
        });
        h.Time.Advance(TimeSpan.FromSeconds(5));
        var group = h.Scheduler.FindGroup("r")!;
        Assert.That(group.MaxProcs, Is.EqualTo(2));
        Assert.That(group.Running, Is.EqualTo(2));
        Assert.That(group.QueuedCount, Is.EqualTo(3));
        Assert.That(repeat.Fired, Is.EqualTo(5));
    }

    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    /// <summary>Registers "30 2 * * *" in Berlin at `from`, runs the fake clocks 48 hours in
    /// steps of a minute, and gives the Berlin wall times of the firings.</summary>
    private static List<DateTimeOffset> DailyAt0230InBerlin(DateTimeOffset from)
    {
        var h = new Harness();
        h.Time.WallNow = from;
        var repeat = h.Scheduler.AddRepeat(new RepeatRequest(Harness.Script("tick"), Array.Empty<string>(), "30 2 * * *")
        {
            Cron = CronExpression.Parse("30 2 * * *"),
            Zone = Berlin,
            Owner = h.Init,
            AllowOverlap = true,
        });
        var firings = new List<DateTimeOffset>();
        for (int minute = 0; minute < 48 * 60; minute++)
        {
            long before = repeat.Fired;
            h.Time.Advance(TimeSpan.FromMinutes(1));
            if (repeat.Fired != before) firings.Add(TimeZoneInfo.ConvertTime(repeat.LastFiredAt!.Value, Berlin));
            Assert.That(repeat.Fired - before, Is.LessThanOrEqualTo(1), "never two firings in one minute");
        }
        return firings;
    }

    [Test]
    public void A_0230_job_fires_once_on_the_spring_forward_day()
    {
        // 2026-03-29 in Berlin: 02:00 CET becomes 03:00 CEST, so 02:30 does not exist.
        var firings = DailyAt0230InBerlin(new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero));
        Assert.That(firings.Select(f => f.ToString("yyyy-MM-dd HH:mm zzz")), Is.EqualTo(new[]
        {
            "2026-03-29 03:00 +02:00", // the end of the gap, once
            "2026-03-30 02:30 +02:00",
        }));
    }

    [Test]
    public void A_0230_job_fires_once_on_the_fall_back_day()
    {
        // 2026-10-25 in Berlin: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice.
        var firings = DailyAt0230InBerlin(new DateTimeOffset(2026, 10, 24, 12, 0, 0, TimeSpan.Zero));
        Assert.That(firings.Select(f => f.ToString("yyyy-MM-dd HH:mm zzz")), Is.EqualTo(new[]
        {
            "2026-10-25 02:30 +02:00", // the first pass only
            "2026-10-26 02:30 +01:00",
        }));
    }

    [Test]
    public void A_cron_repeat_reads_its_expression_in_its_zone_or_the_daemons()
    {
        var kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        var h = new Harness(new SchedulerSettings { Grace = TimeSpan.FromSeconds(10), Zone = kolkata });
        RepeatRequest At7(TimeZoneInfo? zone) => new(Harness.Script("tick"), Array.Empty<string>(), "0 7 * * *")
        {
            Cron = CronExpression.Parse("0 7 * * *"), Zone = zone, Owner = h.Init,
        };
        var inTokyo = h.Scheduler.AddRepeat(At7(tokyo));
        var byDefault = h.Scheduler.AddRepeat(At7(null));
        // Now is 2026-11-22 12:00 UTC.
        Assert.That(inTokyo.NextAt, Is.EqualTo(new DateTimeOffset(2026, 11, 22, 22, 0, 0, TimeSpan.Zero)));
        Assert.That(inTokyo.Cron!.Zone.Id, Is.EqualTo("Asia/Tokyo"));
        Assert.That(byDefault.NextAt, Is.EqualTo(new DateTimeOffset(2026, 11, 23, 1, 30, 0, TimeSpan.Zero)));
        Assert.That(byDefault.Cron!.Zone.Id, Is.EqualTo("Asia/Kolkata"));
    }
}
