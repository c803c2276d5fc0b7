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
}
