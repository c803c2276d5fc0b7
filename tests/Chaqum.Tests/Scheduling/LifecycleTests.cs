using Chaqum.Native;
using Chaqum.Scheduling;

namespace Chaqum.Tests.Scheduling;

[TestFixture, CancelAfter(30_000)]
public class LifecycleTests
{
    [Test]
    public void Timeout_sends_TERM_then_KILL_after_the_grace_and_is_not_a_kill_command()
    {
        var h = new Harness();
        var job = h.Enqueue(options: new JobOptions { Timeout = TimeSpan.FromSeconds(1.5) });
        h.Time.Advance(TimeSpan.FromSeconds(1.4));
        Assert.That(h.Launcher.Signals, Is.Empty);
        h.Time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.That(h.Launcher.Signals.Single(), Is.EqualTo((job, Signals.SIGTERM)));
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(h.Launcher.Signals.Last(), Is.EqualTo((job, Signals.SIGKILL)));
        h.Die(job, Signals.SIGKILL);
        Assert.That(job.Status.Wire, Is.EqualTo("-9"));
        Assert.That(job.Outcome, Is.EqualTo(Outcome.TimedOut));
    }

    [Test]
    public void Timeout_timer_is_cancelled_when_the_job_ends_in_time()
    {
        var h = new Harness();
        var job = h.Enqueue(options: new JobOptions { Timeout = TimeSpan.FromSeconds(1) });
        h.Exit(job);
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.That(h.Launcher.Signals, Is.Empty);
    }

    [Test]
    public void Retries_with_exponential_backoff_keep_the_id_and_count_attempts()
    {
        var h = new Harness();
        var job = h.Enqueue(options: new JobOptions { Retries = 3 });
        h.Exit(job, 1);
        Assert.That(job.State, Is.EqualTo(JobState.Retrying));
        h.Time.Advance(TimeSpan.FromSeconds(0.9));
        Assert.That(job.State, Is.EqualTo(JobState.Retrying));
        h.Time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(job.State, Is.EqualTo(JobState.Running));
        Assert.That(job.Attempt, Is.EqualTo(2));
        h.Exit(job, 2);
        h.Time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.That(job.State, Is.EqualTo(JobState.Retrying), "second backoff is 2 s");
        h.Time.Advance(TimeSpan.FromSeconds(0.1));
        h.Exit(job, 3);
        h.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.That(job.Attempt, Is.EqualTo(4));
        h.Exit(job, 4);
        Assert.That(job.State, Is.EqualTo(JobState.Done), "retries exhausted");
        Assert.That(job.Status.Wire, Is.EqualTo("4"), "the last attempt's status");
        Assert.That(h.Launcher.Launched.Where(l => l.Job == job).Select(l => l.Attempt), Is.EqualTo(new[] { 1, 2, 3, 4 }));
    }

    [Test]
    public void Backoff_doubles_from_one_second_and_is_capped_at_five_minutes()
    {
        var h = new Harness();
        Assert.That(Enumerable.Range(1, 12).Select(a => h.Scheduler.RetryDelay(a).TotalSeconds),
            Is.EqualTo(new double[] { 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300 }));
    }

    [Test]
    public void A_successful_retry_ends_with_zero_and_signal_deaths_are_retried()
    {
        var h = new Harness();
        var job = h.Enqueue(options: new JobOptions { Retries = 2 });
        h.Die(job, Signals.SIGSEGV);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Exit(job, 0);
        Assert.That(job.State, Is.EqualTo(JobState.Done));
        Assert.That(job.Status.Wire, Is.EqualTo("0"));
        Assert.That(job.Attempt, Is.EqualTo(2));
    }

    [Test]
    public void A_killed_job_is_not_retried()
    {
        var h = new Harness();
        var job = h.Enqueue(options: new JobOptions { Retries = 5 });
        h.Scheduler.Kill(job, Signals.SIGTERM, KillSource.Command);
        h.Die(job, Signals.SIGTERM);
        Assert.That(job.State, Is.EqualTo(JobState.Done));
        Assert.That(job.Outcome, Is.EqualTo(Outcome.Killed));
    }

    [Test]
    public void Killing_a_job_waiting_for_its_retry_ends_it_with_the_last_status()
    {
        var h = new Harness();
        var job = h.Enqueue(options: new JobOptions { Retries = 5 });
        h.Exit(job, 7);
        h.Scheduler.Kill(job, Signals.SIGTERM, KillSource.Command);
        Assert.That(job.State, Is.EqualTo(JobState.Done));
        Assert.That(job.Status.Wire, Is.EqualTo("7"));
        h.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.That(job.Attempt, Is.EqualTo(1));
    }

    [Test]
    public void A_key_returns_the_queued_or_running_job_until_it_ends()
    {
        var h = new Harness();
        var first = h.Enqueue(options: new JobOptions { Key = "inbox/a.png" });
        var again = h.Enqueue(options: new JobOptions { Key = "inbox/a.png" });
        var other = h.Enqueue(options: new JobOptions { Key = "inbox/b.png" });
        Assert.That(again, Is.SameAs(first));
        Assert.That(other, Is.Not.SameAs(first));
        h.Exit(first);
        var later = h.Enqueue(options: new JobOptions { Key = "inbox/a.png" });
        Assert.That(later, Is.Not.SameAs(first));
    }

    [Test]
    public void Dependencies_start_a_job_only_after_all_succeeded()
    {
        var h = new Harness();
        var a = h.Enqueue("a");
        var b = h.Enqueue("b");
        var c = h.Enqueue("c", after: new[] { a.Id, b.Id });
        Assert.That(c.State, Is.EqualTo(JobState.Pending));
        h.Exit(a);
        Assert.That(c.State, Is.EqualTo(JobState.Pending));
        h.Exit(b);
        Assert.That(c.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void A_failed_dependency_ends_the_dependent_with_N_without_running()
    {
        var h = new Harness();
        var a = h.Enqueue("a");
        var c = h.Enqueue("c", after: new[] { a.Id });
        var d = h.Enqueue("d", after: new[] { c.Id });
        h.Exit(a, 3);
        Assert.That(c.State, Is.EqualTo(JobState.Cancelled));
        Assert.That(c.Status.Wire, Is.EqualTo("N"));
        Assert.That(c.EndReason, Does.Contain($"dependency {a.Id} ended (exit 3)"));
        Assert.That(d.State, Is.EqualTo(JobState.Cancelled), "the failure cascades");
        Assert.That(h.Started, Has.No.Member(c));
    }

    [Test]
    public void Dependencies_on_already_finished_jobs()
    {
        var h = new Harness();
        var ok = h.Enqueue("ok");
        var bad = h.Enqueue("bad");
        h.Exit(ok);
        h.Exit(bad, 1);
        h.Scheduler.Consume(ok); // its result fetched by a wait: still known to -a
        Assert.That(h.Enqueue("x", after: new[] { ok.Id }).State, Is.EqualTo(JobState.Running));
        Assert.That(h.Enqueue("y", after: new[] { bad.Id }).State, Is.EqualTo(JobState.Cancelled));
        Assert.Throws<SchedulingException>(() => h.Enqueue("z", after: new[] { "nosuch/99" }));
    }

    [Test]
    public void Idle_only_after_entry_jobs_and_repeats_are_gone()
    {
        var h = new Harness();
        var job = h.Enqueue();
        h.Exit(h.Init);
        h.Time.RunDue();
        Assert.That(h.IdleRaised, Is.EqualTo(0));
        h.Exit(job);
        h.Time.RunDue();
        Assert.That(h.IdleRaised, Is.EqualTo(1));
    }

    [Test]
    public void Results_are_kept_until_fetched_or_the_parent_ends_and_forget_keeps_none()
    {
        var h = new Harness();
        var kept = h.Enqueue();
        var forgotten = h.Enqueue(options: new JobOptions { Forget = true });
        h.Exit(kept);
        h.Exit(forgotten);
        Assert.That(h.Scheduler.Find(kept.Id), Is.SameAs(kept));
        Assert.That(h.Scheduler.Find(forgotten.Id), Is.Null);
        h.Scheduler.Consume(kept);
        Assert.That(h.Scheduler.Find(kept.Id), Is.Null);

        var orphanResult = h.Enqueue();
        h.Exit(orphanResult);
        h.Exit(h.Init);
        Assert.That(h.Scheduler.Find(orphanResult.Id), Is.Null, "the enqueuing job has ended");
    }

    [Test]
    public void Unfetched_results_are_bounded()
    {
        var h = new Harness(new SchedulerSettings { RetainedResults = 10 });
        var jobs = Enumerable.Range(0, 25).Select(_ => h.Enqueue()).ToList();
        foreach (var j in jobs) h.Exit(j);
        Assert.That(jobs.Count(j => h.Scheduler.Find(j.Id) is not null), Is.EqualTo(10));
        Assert.That(h.Scheduler.Find(jobs[^1].Id), Is.Not.Null, "the newest are kept");
    }

    [Test]
    public void Shutdown_cancels_queued_jobs_and_terms_running_ones()
    {
        var h = new Harness();
        var running = h.Enqueue(group: "g", limits: new GroupLimits { MaxProcs = 1 });
        var queued = h.Enqueue(group: "g");
        h.Scheduler.Shutdown();
        Assert.That(queued.State, Is.EqualTo(JobState.Cancelled));
        Assert.That(h.Launcher.Signals, Does.Contain((running, Signals.SIGTERM)));
        Assert.Throws<SchedulingException>(() => h.Enqueue());
        h.Die(running, Signals.SIGTERM);
        h.Die(h.Init, Signals.SIGTERM);
        h.Time.RunDue();
        Assert.That(h.IdleRaised, Is.EqualTo(1));
        Assert.That(queued.State, Is.EqualTo(JobState.Cancelled), "no job started during shutdown");
    }
}
