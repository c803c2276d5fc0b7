using Chaqum.Scheduling;

namespace Chaqum.Tests.Scheduling;

/// <summary>Join points (what a plan's sequence of parallel groups waits on): the scheduler
/// with fakes, so each rule is checked without processes.</summary>
[TestFixture, CancelAfter(30_000)]
public class JoinTests
{
    private static Job After(Harness h, Join join, string script = "next") =>
        h.Scheduler.Enqueue(new EnqueueRequest(Harness.Script(script), Array.Empty<string>()) { AfterJoin = join });

    [Test]
    public void Jobs_behind_a_join_start_only_when_every_input_has_succeeded()
    {
        var h = new Harness();
        var inputs = Enumerable.Range(0, 3).Select(_ => h.Enqueue()).ToList();
        var join = h.Scheduler.JoinOf(inputs);
        var waiting = Enumerable.Range(0, 4).Select(_ => After(h, join)).ToList();
        Assert.That(waiting.Select(j => j.State), Is.All.EqualTo(JobState.Pending));
        h.Exit(inputs[0]);
        h.Exit(inputs[2]);
        Assert.That(join.Settled, Is.False);
        Assert.That(waiting.Select(j => j.State), Is.All.EqualTo(JobState.Pending));
        h.Exit(inputs[1]);
        Assert.That(join.Settled, Is.True);
        Assert.That(join.Failure, Is.Null);
        Assert.That(waiting.Select(j => j.State), Is.All.EqualTo(JobState.Running));
    }

    [Test]
    public void The_first_input_that_fails_ends_what_waits_as_not_run_while_the_others_go_on()
    {
        var h = new Harness();
        var inputs = Enumerable.Range(0, 3).Select(_ => h.Enqueue()).ToList();
        var join = h.Scheduler.JoinOf(inputs);
        var waiting = After(h, join);
        h.Exit(inputs[1], 4);
        Assert.That(join.Failure, Does.Contain(inputs[1].Id).And.Contain("exit 4"));
        Assert.That(waiting.State, Is.EqualTo(JobState.Cancelled));
        Assert.That(waiting.Outcome, Is.EqualTo(Outcome.DependencyFailed));
        Assert.That(waiting.EndReason, Does.Contain(inputs[1].Id));
        Assert.That(inputs[0].State, Is.EqualTo(JobState.Running), "the other inputs are not touched");
        // A job enqueued behind a join that has failed ends at once, saying why.
        var late = After(h, join);
        Assert.That(late.State, Is.EqualTo(JobState.Cancelled));
        Assert.That(late.EndReason, Is.EqualTo(join.Failure));
    }

    [Test]
    public void A_join_of_jobs_that_have_all_succeeded_already_lets_its_waiters_run_at_once()
    {
        var h = new Harness();
        var inputs = Enumerable.Range(0, 2).Select(_ => h.Enqueue()).ToList();
        foreach (var j in inputs) h.Exit(j);
        var join = h.Scheduler.JoinOf(inputs);
        Assert.That(join.Settled, Is.True);
        Assert.That(After(h, join).State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void A_job_waits_for_a_join_and_a_job_together()
    {
        var h = new Harness();
        var a = h.Enqueue();
        var b = h.Enqueue();
        var c = h.Enqueue();
        var join = h.Scheduler.JoinOf(new[] { a, b });
        var both = h.Scheduler.Enqueue(new EnqueueRequest(Harness.Script("next"), Array.Empty<string>()) { AfterJoin = join, AfterJob = c });
        h.Exit(a);
        h.Exit(b);
        Assert.That(both.State, Is.EqualTo(JobState.Pending));
        h.Exit(c);
        Assert.That(both.State, Is.EqualTo(JobState.Running));
    }
}
