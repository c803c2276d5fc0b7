using Chaqum.Scheduling;

namespace Chaqum.Tests.Scheduling;

[TestFixture, CancelAfter(30_000)]
public class GroupTests
{
    private static GroupLimits Max(int n) => new() { MaxProcs = n };

    [Test]
    public void Jobs_without_a_group_start_at_once()
    {
        var h = new Harness();
        var jobs = Enumerable.Range(0, 50).Select(_ => h.Enqueue()).ToList();
        Assert.That(jobs.All(j => j.State == JobState.Running), Is.True);
        Assert.That(jobs.All(j => j.Slot == -1), Is.True, "no slots outside capped groups");
    }

    [Test]
    public void A_capped_group_never_exceeds_its_limit_and_a_leaving_job_starts_the_next_at_once()
    {
        var h = new Harness();
        var jobs = Enumerable.Range(0, 5).Select(_ => h.Enqueue(group: "g", limits: Max(2))).ToList();
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(2));
        Assert.That(jobs[2].State, Is.EqualTo(JobState.Queued));
        h.Exit(jobs[0]);
        // No timer involved: the next job started within the exit itself.
        Assert.That(jobs[2].State, Is.EqualTo(JobState.Running));
        Assert.That(h.Scheduler.FindGroup("g")!.Running, Is.EqualTo(2));
        h.Exit(jobs[1]); h.Exit(jobs[2]); h.Exit(jobs[3]);
        Assert.That(jobs[4].State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void Slots_are_the_lowest_free_number_and_unique_among_running_jobs()
    {
        var h = new Harness();
        var jobs = Enumerable.Range(0, 6).Select(_ => h.Enqueue(group: "g", limits: Max(3))).ToList();
        Assert.That(jobs.Take(3).Select(j => j.Slot), Is.EqualTo(new[] { 0, 1, 2 }));
        h.Exit(jobs[1]);
        Assert.That(jobs[3].Slot, Is.EqualTo(1));
        h.Exit(jobs[0]);
        Assert.That(jobs[4].Slot, Is.EqualTo(0));
        h.Exit(jobs[2]);
        Assert.That(jobs[5].Slot, Is.EqualTo(2));
        var running = jobs.Where(j => j.State == JobState.Running).Select(j => j.Slot).ToList();
        Assert.That(running, Is.Unique);
        Assert.That(running.All(s => s is >= 0 and < 3), Is.True);
    }

    [Test]
    public void Higher_priority_first_then_first_come_first_served()
    {
        var h = new Harness();
        var blocker = h.Enqueue(group: "g", limits: Max(1));
        var low1 = h.Enqueue("low1", "g");
        var high = h.Enqueue("high", "g", priority: 5);
        var low2 = h.Enqueue("low2", "g");
        var negative = h.Enqueue("neg", "g", priority: -1);
        var high2 = h.Enqueue("high2", "g", priority: 5);
        foreach (var _ in Enumerable.Range(0, 5)) h.Exit(h.Launcher.Running(h.Scheduler).Single(j => j.Group.Name == "g"));
        Assert.That(h.Started.Skip(1).Select(j => j.Script.Relative), Is.EqualTo(new[] { "work", "high", "high2", "low1", "low2", "neg" }));
        _ = (blocker, low1, low2, negative, high2, high);
    }

    [Test]
    public void Limits_latest_values_win_and_raising_the_cap_starts_queued_jobs()
    {
        var h = new Harness();
        var jobs = Enumerable.Range(0, 4).Select(_ => h.Enqueue(group: "g", limits: Max(1))).ToList();
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(1));
        h.Scheduler.UpdateGroup("g", Max(3));
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(3));
        h.Enqueue(group: "g", limits: Max(0)); // 0 = unlimited
        Assert.That(h.Launcher.Running(h.Scheduler).Count(j => j.Group.Name == "g"), Is.EqualTo(5));
    }

    [Test]
    public void A_group_with_no_jobs_left_and_no_settings_is_forgotten_and_made_anew_on_its_next_mention()
    {
        var h = new Harness();
        // A tree naming a group per item: none of them may stay once its jobs are done.
        var items = Enumerable.Range(0, 500).Select(i => h.Enqueue(group: $"item-{i}")).ToList();
        Assert.That(h.Scheduler.Groups.Count(), Is.EqualTo(500));
        foreach (var job in items) h.Exit(job);
        Assert.That(h.Scheduler.Groups, Is.Empty);

        // Kept: a group with a cap, a paused one, and one with a job still queued or pending.
        var capped = h.Enqueue(group: "capped", limits: Max(1));
        var queued = h.Enqueue(group: "capped");
        h.Scheduler.UpdateGroup("paused", GroupLimits.Unchanged);
        h.Scheduler.PauseGroup(h.Scheduler.FindGroup("paused")!, true);
        var waiting = h.Enqueue(group: "paused");
        h.Exit(capped);
        Assert.That(queued.State, Is.EqualTo(JobState.Running));
        h.Exit(queued);
        Assert.That(h.Scheduler.FindGroup("capped")?.MaxProcs, Is.EqualTo(1), "a capped group keeps its cap with no jobs");
        Assert.That(waiting.State, Is.EqualTo(JobState.Queued));
        Assert.That(h.Scheduler.FindGroup("paused"), Is.Not.Null);

        // Mentioned again: a new group, which works as the first one did.
        var again = h.Enqueue(group: "item-7");
        Assert.That(again.State, Is.EqualTo(JobState.Running));
        Assert.That(h.Scheduler.FindGroup("item-7")!.Running, Is.EqualTo(1));
        h.Exit(again);
        Assert.That(h.Scheduler.FindGroup("item-7"), Is.Null);
    }

    [Test]
    public void Paused_group_starts_nothing_until_resumed()
    {
        var h = new Harness();
        var g = h.Scheduler.UpdateGroup("g", Max(2));
        h.Scheduler.PauseGroup(g, true);
        var job = h.Enqueue(group: "g");
        Assert.That(job.State, Is.EqualTo(JobState.Queued));
        Assert.That(g.HoldReason, Is.EqualTo("paused"));
        h.Scheduler.PauseGroup(g, false);
        Assert.That(job.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void Transient_spawn_failure_keeps_the_job_and_retries_later()
    {
        var h = new Harness();
        bool fail = true;
        h.Launcher.Override = _ => fail ? LaunchResult.Failed("Resource temporarily unavailable", transient: true) : null;
        var job = h.Enqueue(group: "g", limits: Max(2));
        Assert.That(job.State, Is.EqualTo(JobState.Queued));
        Assert.That(job.Attempt, Is.EqualTo(0));
        fail = false;
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(job.State, Is.EqualTo(JobState.Running));
        Assert.That(job.Attempt, Is.EqualTo(1));
    }

    [Test]
    public void Permanent_spawn_failure_ends_the_job_with_N()
    {
        var h = new Harness();
        h.Launcher.Override = _ => LaunchResult.Failed("Exec format error", transient: false);
        var job = h.Enqueue();
        Assert.That(job.State, Is.EqualTo(JobState.Cancelled));
        Assert.That(job.Status.Wire, Is.EqualTo("N"));
        Assert.That(job.Outcome, Is.EqualTo(Outcome.SpawnFailed));
    }
}
