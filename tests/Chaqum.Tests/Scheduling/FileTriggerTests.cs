using Chaqum.Scheduling;
using Chaqum.Scheduling.Repeats;

namespace Chaqum.Tests.Scheduling;

/// <summary>File triggers and the operator's hold on repeats, with fake watches and a fake
/// clock: settling, one run at a time, the batch handed over, disable/enable/trigger.</summary>
[TestFixture, CancelAfter(30_000)]
public class FileTriggerTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);

    private static Repeat Watch(Harness h, bool overlap = false) =>
        h.Scheduler.AddRepeat(new RepeatRequest(Harness.Script("scan"), Array.Empty<string>(), "/in")
        {
            Watch = new[] { new WatchedPath("/in", false) },
            Settle = Settle,
            Owner = h.Init,
            AllowOverlap = overlap,
        });

    private static void Change(Harness h, Repeat r, params string[] paths)
    {
        foreach (var p in paths) h.Watches.Listeners[r.Id].Changed(p);
    }

    [Test]
    public void Changes_fire_once_they_have_settled_with_each_path_once()
    {
        var h = new Harness();
        var r = Watch(h);
        Change(h, r, "/in/a", "/in/b", "/in/a");
        h.Time.Advance(TimeSpan.FromSeconds(0.9));
        Change(h, r, "/in/c");
        h.Time.Advance(TimeSpan.FromSeconds(0.9));
        Assert.That(r.Fired, Is.EqualTo(0), "the last change is 0.9 s old: not settled");
        h.Time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(r.Fired, Is.EqualTo(1));
        Assert.That(h.Watches.PathsOf(r.LastJob!), Is.EqualTo(new[] { "/in/a", "/in/b", "/in/c" }));
    }

    [Test]
    public void Changes_during_a_run_make_exactly_one_more_run_after_it()
    {
        var h = new Harness();
        var r = Watch(h);
        Change(h, r, "/in/1");
        h.Time.Advance(Settle);
        var first = r.LastJob!;
        for (int i = 2; i <= 10_000; i++) Change(h, r, $"/in/{i}");
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(r.Fired, Is.EqualTo(1), "no second run while the first runs");
        var batch = first.Repeat!.Watch!.BatchOf(first)!;
        h.Exit(first);
        Assert.That(h.Watches.Discarded, Does.Contain(batch.File), "the list goes with the run");
        h.Time.RunDue();
        Assert.That(r.Fired, Is.EqualTo(2));
        Assert.That(h.Watches.PathsOf(r.LastJob!), Has.Count.EqualTo(9_999));
        h.Exit(r.LastJob!);
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(r.Fired, Is.EqualTo(2), "nothing changed since");
    }

    [Test]
    public void A_steady_stream_fires_at_the_latest_after_the_maximum_delay()
    {
        var h = new Harness();
        var r = Watch(h);
        var stream = TimeSpan.Zero;
        while (r.Fired == 0 && stream < TimeSpan.FromMinutes(5))
        {
            Change(h, r, $"/in/{stream.TotalSeconds}");
            h.Time.Advance(TimeSpan.FromSeconds(0.5));
            stream += TimeSpan.FromSeconds(0.5);
        }
        Assert.That(r.Fired, Is.EqualTo(1));
        Assert.That(stream, Is.LessThanOrEqualTo(r.Watch!.MaxDelay + Settle));
    }

    [Test]
    public void An_overflow_fires_with_the_list_marked_incomplete()
    {
        var h = new Harness();
        var r = Watch(h);
        h.Watches.Listeners[r.Id].Overflowed();
        h.Time.Advance(Settle);
        Assert.That(r.Fired, Is.EqualTo(1));
        Assert.That(r.Watch!.BatchOf(r.LastJob!)!.Incomplete, Is.True);
        Assert.That(h.Watches.PathsOf(r.LastJob!), Is.Empty);
    }

    [Test]
    public void A_refused_watch_leaves_no_repeat()
    {
        var h = new Harness();
        h.Watches.Refuse = "no such directory: /in";
        var e = Assert.Throws<SchedulingException>(() => Watch(h));
        Assert.That(e!.Message, Is.EqualTo("no such directory: /in"));
        Assert.That(h.Scheduler.Repeats, Is.Empty);
    }

    [Test]
    public void Disabled_triggers_drop_changes_and_enabled_ones_fire_on_the_next()
    {
        var h = new Harness();
        var r = Watch(h);
        Change(h, r, "/in/a");
        h.Scheduler.SetRepeatEnabled(r, false);
        Change(h, r, "/in/b");
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(r.Fired, Is.EqualTo(0));
        h.Scheduler.SetRepeatEnabled(r, true);
        Change(h, r, "/in/c");
        h.Time.Advance(Settle);
        Assert.That(h.Watches.PathsOf(r.LastJob!), Is.EqualTo(new[] { "/in/c" }));
    }

    [Test]
    public void Unrepeat_closes_the_watch_and_the_running_firing_goes_on()
    {
        var h = new Harness();
        var r = Watch(h);
        Change(h, r, "/in/a");
        h.Time.Advance(Settle);
        var job = r.LastJob!;
        Assert.That(h.Scheduler.RemoveRepeat(r.Id), Is.True);
        Assert.That(h.Watches.Listeners, Is.Empty);
        Assert.That(job.State, Is.EqualTo(JobState.Running));
        h.Exit(job);
        h.Time.RunDue();
        Assert.That(h.Watches.Discarded, Has.Count.EqualTo(1));
    }

    [Test]
    public void Disabled_clock_repeats_keep_their_schedule_and_skip_firings()
    {
        var h = new Harness();
        var r = h.Scheduler.AddRepeat(new RepeatRequest(Harness.Script("tick"), Array.Empty<string>(), "10s") { Every = TimeSpan.FromSeconds(10), Owner = h.Init });
        h.Scheduler.SetRepeatEnabled(r, false);
        var next = r.NextAt;
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.That(r.Fired, Is.EqualTo(0));
        Assert.That(r.Skipped, Is.EqualTo(3));
        Assert.That(r.NextAt, Is.EqualTo(next + TimeSpan.FromSeconds(30)), "the schedule ran on");
        h.Scheduler.SetRepeatEnabled(r, true);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(r.Fired, Is.EqualTo(1));
    }

    [Test]
    public void Trigger_fires_now_even_disabled_and_keeps_the_schedule()
    {
        var h = new Harness();
        var r = h.Scheduler.AddRepeat(new RepeatRequest(Harness.Script("tick"), Array.Empty<string>(), "1h") { Every = TimeSpan.FromHours(1), Owner = h.Init });
        var next = r.NextAt;
        h.Scheduler.SetRepeatEnabled(r, false);
        var outcome = h.Scheduler.TriggerRepeat(r);
        Assert.That(outcome.Job, Is.Not.Null);
        Assert.That(outcome.Job!.State, Is.EqualTo(JobState.Running));
        Assert.That(r.NextAt, Is.EqualTo(next));

        var again = h.Scheduler.TriggerRepeat(r);
        Assert.That(again.Job, Is.Null, "the last firing still runs and overlap is not allowed");
        Assert.That(again.NotFired, Does.Contain(outcome.Job.Id).And.Contain("does not allow overlap"));
        Assert.That(again.Deferred, Is.False);
        Assert.That(r.Skipped, Is.EqualTo(1), "counted as a scheduled firing would be");
    }

    [Test]
    public void Trigger_of_a_busy_file_trigger_runs_once_more_after_the_run()
    {
        var h = new Harness();
        var r = Watch(h);
        var first = h.Scheduler.TriggerRepeat(r).Job!;
        Assert.That(h.Watches.PathsOf(first), Is.Empty, "a trigger without changes hands an empty list");
        var second = h.Scheduler.TriggerRepeat(r);
        Assert.That(second.Deferred, Is.True);
        h.Exit(first);
        h.Time.RunDue();
        Assert.That(r.Fired, Is.EqualTo(2));
    }
}
