using Chaqum.Scheduling;

namespace Chaqum.Tests.Scheduling;

/// <summary>enqueue -d / -A with a fake clock: scheduled until due, then queued as usual.</summary>
[TestFixture, CancelAfter(30_000)]
public class DelayTests
{
    private static Job Enqueue(Harness h, string script, TimeSpan? delay = null, string? group = null, GroupLimits? limits = null,
        bool held = false, bool urgent = false, int priority = 0, params string[] after) =>
        h.Scheduler.Enqueue(new EnqueueRequest(Harness.Script(script), Array.Empty<string>())
        {
            Parent = h.Init,
            GroupName = group,
            Limits = limits ?? GroupLimits.Unchanged,
            DueAt = delay is { } d ? h.Time.WallNow + d : null,
            Held = held,
            Urgent = urgent,
            Priority = priority,
            Dependencies = after,
        });

    [Test]
    public void A_delayed_job_is_scheduled_until_due_then_starts()
    {
        var h = new Harness();
        var later = Enqueue(h, "later", TimeSpan.FromMinutes(10));
        Assert.That(later.State, Is.EqualTo(JobState.Scheduled));
        h.Time.Advance(TimeSpan.FromMinutes(9));
        Assert.That(later.State, Is.EqualTo(JobState.Scheduled));
        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(later.State, Is.EqualTo(JobState.Running));
        Assert.That(h.Scheduler.ScheduledCount, Is.Zero);
    }

    [Test]
    public void Due_jobs_leave_in_due_order_and_then_queue_in_their_groups_usual_order()
    {
        var h = new Harness();
        var blocker = Enqueue(h, "blocker", group: "g", limits: new GroupLimits { MaxProcs = 1 });
        var third = Enqueue(h, "third", TimeSpan.FromSeconds(30), "g");
        var first = Enqueue(h, "first", TimeSpan.FromSeconds(10), "g");
        var second = Enqueue(h, "second", TimeSpan.FromSeconds(20), "g");
        h.Time.Advance(TimeSpan.FromSeconds(15));
        Assert.That(new[] { first.State, second.State, third.State }, Is.EqualTo(new[] { JobState.Queued, JobState.Scheduled, JobState.Scheduled }));
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(new[] { first.State, second.State, third.State }, Is.EqualTo(new[] { JobState.Queued, JobState.Queued, JobState.Scheduled }));
        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(new[] { first, second, third }.All(j => j.State == JobState.Queued), Is.True, "due, but the group is full");
        h.Exit(blocker);
        h.Exit(h.Started.Last());
        h.Exit(h.Started.Last());
        // Once queued, first come (by job number) first served, as for any job.
        Assert.That(h.Started.Skip(2), Is.EqualTo(new[] { third, first, second }));
    }

    [Test]
    public void Many_scheduled_jobs_share_one_timer()
    {
        var h = new Harness();
        int before = h.Time.Pending;
        var jobs = Enumerable.Range(1, 1000).Select(i => Enqueue(h, "j", TimeSpan.FromSeconds(i))).ToList();
        Assert.That(h.Time.Pending - before, Is.EqualTo(1));
        h.Time.Advance(TimeSpan.FromSeconds(500));
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(500));
        Assert.That(h.Time.Pending - before, Is.EqualTo(1));
        h.Time.Advance(TimeSpan.FromSeconds(500));
        Assert.That(jobs.All(j => j.State == JobState.Running), Is.True);
        Assert.That(h.Time.Pending - before, Is.Zero, "nothing scheduled: no timer");
    }

    [Test]
    public void Killing_a_scheduled_job_cancels_it_and_its_timer()
    {
        var h = new Harness();
        int before = h.Time.Pending;
        var job = Enqueue(h, "later", TimeSpan.FromHours(1));
        h.Scheduler.Kill(job, 15, KillSource.Operator);
        Assert.That(job.State, Is.EqualTo(JobState.Cancelled));
        Assert.That(job.Status, Is.EqualTo(JobStatus.NeverRan));
        h.Time.RunDue();
        Assert.That(h.Time.Pending, Is.EqualTo(before));
        h.Time.Advance(TimeSpan.FromHours(2));
        Assert.That(h.Started, Does.Not.Contain(job));
    }

    [Test]
    public void Shutdown_cancels_scheduled_jobs_and_the_daemon_goes_idle()
    {
        var h = new Harness();
        var job = Enqueue(h, "later", TimeSpan.FromHours(1));
        h.Exit(h.Init);
        h.Time.RunDue();
        Assert.That(h.IdleRaised, Is.Zero, "a scheduled job keeps the daemon alive");
        h.Scheduler.Shutdown();
        h.Time.RunDue();
        Assert.That(job.State, Is.EqualTo(JobState.Cancelled));
        Assert.That(h.IdleRaised, Is.EqualTo(1));
    }

    [Test]
    public void With_dependencies_the_job_is_pending_then_scheduled_until_its_time()
    {
        var h = new Harness();
        var dep = Enqueue(h, "dep");
        var job = Enqueue(h, "job", TimeSpan.FromMinutes(5), after: dep.Id);
        Assert.That(job.State, Is.EqualTo(JobState.Pending));
        h.Time.Advance(TimeSpan.FromMinutes(1));
        h.Exit(dep);
        Assert.That(job.State, Is.EqualTo(JobState.Scheduled));
        h.Time.Advance(TimeSpan.FromMinutes(4));
        Assert.That(job.State, Is.EqualTo(JobState.Running));

        var late = Enqueue(h, "dep2");
        var quick = Enqueue(h, "quick", TimeSpan.FromSeconds(1), after: late.Id);
        h.Time.Advance(TimeSpan.FromMinutes(1));
        h.Exit(late);
        Assert.That(quick.State, Is.EqualTo(JobState.Running), "its time passed while it waited: at once");
    }

    [Test]
    public void A_past_due_time_starts_at_once()
    {
        var h = new Harness();
        var job = Enqueue(h, "past", TimeSpan.FromHours(-1));
        Assert.That(job.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void Clock_set_forward_releases_what_came_due_and_set_back_releases_nothing_early()
    {
        var h = new Harness();
        var soon = Enqueue(h, "soon", TimeSpan.FromMinutes(10));
        var later = Enqueue(h, "later", TimeSpan.FromHours(2));
        h.Time.SetWallClock(h.Time.WallNow + TimeSpan.FromMinutes(30));
        Assert.That(soon.State, Is.EqualTo(JobState.Running));
        Assert.That(later.State, Is.EqualTo(JobState.Scheduled));

        h.Time.SetWallClock(h.Time.WallNow - TimeSpan.FromHours(1));
        Assert.That(later.State, Is.EqualTo(JobState.Scheduled));
        // The monotonic time of the first deadline passes: still not due on the wall clock.
        h.Time.Advance(TimeSpan.FromMinutes(100));
        Assert.That(later.State, Is.EqualTo(JobState.Scheduled));
        h.Time.Advance(TimeSpan.FromMinutes(50));
        Assert.That(later.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void A_clock_time_with_a_fake_clock_runs_at_that_wall_time()
    {
        var h = new Harness(new SchedulerSettings { Zone = TimeZoneInfo.Utc });
        var due = DueTime.At("12:30", h.Time.WallNow, h.Scheduler.Settings.Zone);
        var job = h.Scheduler.Enqueue(new EnqueueRequest(Harness.Script("report"), Array.Empty<string>()) { Parent = h.Init, DueAt = due });
        h.Time.Advance(TimeSpan.FromMinutes(29));
        Assert.That(job.State, Is.EqualTo(JobState.Scheduled));
        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(job.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void A_job_may_reschedule_itself()
    {
        var h = new Harness();
        var first = Enqueue(h, "tick");
        var next = h.Scheduler.Enqueue(new EnqueueRequest(Harness.Script("tick"), Array.Empty<string>())
        {
            Parent = first,
            DueAt = h.Time.WallNow + TimeSpan.FromMinutes(1),
        });
        h.Exit(first);
        Assert.That(next.State, Is.EqualTo(JobState.Scheduled), "its parent's end does not cancel it");
        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(next.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void A_held_job_does_not_start_until_released_whatever_it_waits_for()
    {
        var h = new Harness();
        var queued = Enqueue(h, "q", held: true);
        var scheduled = Enqueue(h, "s", TimeSpan.FromMinutes(1), held: true);
        Assert.That(queued.State, Is.EqualTo(JobState.Queued));
        h.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.That(scheduled.State, Is.EqualTo(JobState.Queued), "due, but held");
        Assert.That(h.Started, Is.Empty.Or.EquivalentTo(new[] { h.Init }));
        h.Scheduler.Release(scheduled);
        Assert.That(scheduled.State, Is.EqualTo(JobState.Running));
        Assert.That(queued.State, Is.EqualTo(JobState.Queued));
        h.Scheduler.Release(queued);
        Assert.That(queued.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void Hold_takes_a_queued_job_out_of_line_and_release_puts_it_back_in_its_place()
    {
        var h = new Harness();
        var blocker = Enqueue(h, "blocker", group: "g", limits: new GroupLimits { MaxProcs = 1 });
        var a = Enqueue(h, "a", group: "g");
        var b = Enqueue(h, "b", group: "g");
        h.Scheduler.Hold(a);
        Assert.That(h.Scheduler.FindGroup("g")!.Head, Is.SameAs(b));
        h.Exit(blocker);
        Assert.That(b.State, Is.EqualTo(JobState.Running));
        var c = Enqueue(h, "c", group: "g");
        h.Scheduler.Release(a);
        h.Exit(b);
        Assert.That(a.State, Is.EqualTo(JobState.Running), "back in its place: ahead of the later c");
        Assert.That(c.State, Is.EqualTo(JobState.Queued));
    }

    [Test]
    public void Hold_and_release_refuse_running_ended_and_unheld_jobs()
    {
        var h = new Harness();
        var running = Enqueue(h, "r");
        Assert.That(Assert.Throws<SchedulingException>(() => h.Scheduler.Hold(running))!.Message, Does.Contain("is running"));
        h.Exit(running);
        Assert.That(Assert.Throws<SchedulingException>(() => h.Scheduler.Hold(running))!.Message, Does.Contain("has ended"));
        var later = Enqueue(h, "l", TimeSpan.FromMinutes(1));
        Assert.That(Assert.Throws<SchedulingException>(() => h.Scheduler.Release(later))!.Message, Does.Contain("not held"));
    }

    [Test]
    public void Killing_a_held_job_cancels_it()
    {
        var h = new Harness();
        var job = Enqueue(h, "q", held: true);
        h.Scheduler.Kill(job, 15, KillSource.Operator);
        Assert.That(job.State, Is.EqualTo(JobState.Cancelled));
    }

    [Test]
    public void Urgent_jobs_go_first_in_their_group_whatever_the_priorities()
    {
        var h = new Harness();
        var blocker = Enqueue(h, "blocker", group: "g", limits: new GroupLimits { MaxProcs = 1 });
        var high = Enqueue(h, "high", group: "g", priority: 100);
        var urgentLow = Enqueue(h, "urgent-low", group: "g", urgent: true, priority: -5);
        var urgentHigh = Enqueue(h, "urgent-high", group: "g", urgent: true, priority: 5);
        h.Exit(blocker);
        h.Exit(urgentHigh);
        h.Exit(urgentLow);
        Assert.That(h.Started.Skip(2), Is.EqualTo(new[] { urgentHigh, urgentLow, high }));
    }

    [Test]
    public void An_urgent_job_waiting_for_the_load_keeps_other_groups_from_taking_it()
    {
        var h = new Harness();
        h.Load.Load1 = 3;
        var ordinary = Enqueue(h, "batch", group: "batch", limits: new GroupLimits { MaxLoad = 2 });
        var urgent = Enqueue(h, "admin", group: "admin", limits: new GroupLimits { MaxLoad = 2 }, urgent: true);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(urgent.State, Is.EqualTo(JobState.Queued));
        Assert.That(ordinary.State, Is.EqualTo(JobState.Queued));
        Assert.That(h.Scheduler.FindGroup("batch")!.HoldReason, Does.Contain("load"));

        h.Load.Load1 = 0.5;
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(urgent.State, Is.EqualTo(JobState.Running));
        Assert.That(ordinary.State, Is.EqualTo(JobState.Running));
        Assert.That(h.Started.IndexOf(urgent), Is.LessThan(h.Started.IndexOf(ordinary)), "the urgent job gets the load first");
    }

    [Test]
    public void While_an_urgent_job_waits_on_a_barrier_ordinary_barrier_jobs_elsewhere_wait_too()
    {
        var h = new Harness();
        h.Load.MemAvailable = 1L << 30;
        var urgent = Enqueue(h, "admin", group: "admin", limits: new GroupLimits { MinMemory = 4L << 30 }, urgent: true);
        var ordinary = Enqueue(h, "batch", group: "batch", limits: new GroupLimits { MinMemory = 512L << 20 });
        var free = Enqueue(h, "free", group: "free");
        h.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.That(urgent.State, Is.EqualTo(JobState.Queued));
        Assert.That(ordinary.State, Is.EqualTo(JobState.Queued), "it would take the memory the urgent job waits for");
        Assert.That(h.Scheduler.FindGroup("batch")!.HoldReason, Is.EqualTo($"urgent job {urgent.Id} waits for the load to drop"));
        Assert.That(free.State, Is.EqualTo(JobState.Running), "a group without barriers is not concerned");

        h.Load.MemAvailable = 8L << 30;
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(urgent.State, Is.EqualTo(JobState.Running));
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(ordinary.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void Pause_all_holds_every_group_the_ungrouped_and_new_ones_until_resume_all()
    {
        var h = new Harness();
        h.Scheduler.PauseAll(true);
        var plain = Enqueue(h, "plain");
        var grouped = Enqueue(h, "g", group: "old");
        var fresh = Enqueue(h, "n", group: "new-group");
        Assert.That(new[] { plain, grouped, fresh }.All(j => j.State == JobState.Queued), Is.True);
        h.Scheduler.PauseAll(false);
        Assert.That(new[] { plain, grouped, fresh }.All(j => j.State == JobState.Running), Is.True);
    }

    [Test]
    public void The_ungrouped_name_is_refused_as_a_group()
    {
        var h = new Harness();
        var e = Assert.Throws<SchedulingException>(() => Enqueue(h, "x", group: "-"));
        Assert.That(e!.Message, Does.Contain("ungrouped"));
    }
}
