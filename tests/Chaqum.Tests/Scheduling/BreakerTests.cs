using Chaqum.Native;
using Chaqum.Scheduling;

namespace Chaqum.Tests.Scheduling;

/// <summary>The group failure breaker (-B N), counted with fake jobs.</summary>
[TestFixture, CancelAfter(30_000)]
public class BreakerTests
{
    private static GroupLimits Breaker(int n) => new() { BreakAfter = n };

    [Test]
    public void N_consecutive_failures_pause_the_group_and_say_why()
    {
        var h = new Harness();
        var a = h.Enqueue("fail", "g", Breaker(3));
        var b = h.Enqueue("fail", "g");
        var c = h.Enqueue("fail", "g");
        var group = h.Scheduler.FindGroup("g")!;
        h.Exit(a, 1);
        h.Die(b, Signals.SIGSEGV);
        Assert.That(group.Paused, Is.False, "two failures of three");
        h.Exit(c, 2);
        Assert.That(group.Paused, Is.True);
        Assert.That(group.PausedReason, Is.EqualTo($"3 consecutive failures, last: {c.Id} exit 2"));
        var last = h.Enqueue("fail", "g");
        Assert.That(last.State, Is.EqualTo(JobState.Queued), "a paused group starts nothing");
    }

    [Test]
    public void A_success_resets_the_count()
    {
        var h = new Harness();
        var jobs = Enumerable.Range(0, 5).Select(_ => h.Enqueue("x", "g", Breaker(2))).ToList();
        h.Exit(jobs[0], 1);
        h.Exit(jobs[1], 0);
        h.Exit(jobs[2], 1);
        Assert.That(h.Scheduler.FindGroup("g")!.Paused, Is.False);
        Assert.That(h.Scheduler.FindGroup("g")!.ConsecutiveFailures, Is.EqualTo(1));
        h.Exit(jobs[3], 1);
        Assert.That(h.Scheduler.FindGroup("g")!.Paused, Is.True);
    }

    [Test]
    public void Timeouts_count_and_operator_kills_do_not()
    {
        var h = new Harness();
        var timed = h.Enqueue("x", "g", Breaker(2), options: new JobOptions { Timeout = TimeSpan.FromSeconds(1) });
        var killed = h.Enqueue("x", "g");
        var byParent = h.Enqueue("x", "g");
        h.Scheduler.Kill(killed, Signals.SIGTERM, KillSource.Operator);
        h.Die(killed, Signals.SIGTERM);
        h.Scheduler.Kill(byParent, Signals.SIGTERM, KillSource.Command);
        h.Die(byParent, Signals.SIGTERM);
        Assert.That(h.Scheduler.FindGroup("g")!.ConsecutiveFailures, Is.EqualTo(0), "kills asked for are no failures");
        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Die(timed, Signals.SIGTERM);
        var other = h.Enqueue("x", "g");
        h.Exit(other, 3);
        var group = h.Scheduler.FindGroup("g")!;
        Assert.That(group.Paused, Is.True);
        Assert.That(group.PausedReason, Does.StartWith("2 consecutive failures, last: " + other.Id));
    }

    [Test]
    public void Timeout_as_the_last_failure_is_named_so()
    {
        var h = new Harness();
        var timed = h.Enqueue("x", "g", Breaker(1), options: new JobOptions { Timeout = TimeSpan.FromSeconds(1) });
        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Die(timed, Signals.SIGTERM);
        Assert.That(h.Scheduler.FindGroup("g")!.PausedReason, Is.EqualTo($"1 consecutive failures, last: {timed.Id} timed out"));
    }

    [Test]
    public void Resume_resets_the_count_and_the_reason()
    {
        var h = new Harness();
        var a = h.Enqueue("x", "g", Breaker(1));
        var queued = h.Enqueue("x", "g", new GroupLimits { MaxProcs = 1 });
        h.Exit(a, 1);
        var group = h.Scheduler.FindGroup("g")!;
        Assert.That(group.Paused, Is.True);
        Assert.That(queued.State, Is.EqualTo(JobState.Queued));
        h.Scheduler.PauseGroup(group, false);
        Assert.That(group.PausedReason, Is.Null);
        Assert.That(group.ConsecutiveFailures, Is.EqualTo(0));
        Assert.That(queued.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void Retried_attempts_count_each()
    {
        var h = new Harness();
        var job = h.Enqueue("x", "g", Breaker(2), options: new JobOptions { Retries = 5 });
        h.Exit(job, 1);
        h.Time.Advance(h.Scheduler.RetryDelay(1));
        Assert.That(job.State, Is.EqualTo(JobState.Running));
        h.Exit(job, 1);
        var group = h.Scheduler.FindGroup("g")!;
        Assert.That(group.Paused, Is.True);
        h.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.That(job.State, Is.EqualTo(JobState.Queued), "its retry waits for the resume");
    }

    [Test]
    public void Zero_turns_it_off_and_a_breaker_keeps_the_group_known()
    {
        var h = new Harness();
        var a = h.Enqueue("x", "g", Breaker(1));
        h.Scheduler.UpdateGroup("g", Breaker(0));
        h.Exit(a, 1);
        Assert.That(h.Scheduler.FindGroup("g"), Is.Null, "without a breaker and jobs, the group is forgotten");
        var b = h.Enqueue("x", "k", Breaker(5));
        h.Exit(b, 0);
        Assert.That(h.Scheduler.FindGroup("k")!.BreakAfter, Is.EqualTo(5), "the setting is kept with no job left");
    }
}
