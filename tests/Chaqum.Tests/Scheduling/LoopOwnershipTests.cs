using Chaqum.EventLoop;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chaqum.Tests.Scheduling;

/// <summary>The scheduler's state belongs to the event-loop thread: a change from any other
/// thread is refused at once instead of corrupting queues without a trace.</summary>
[TestFixture, CancelAfter(60_000)]
public class LoopOwnershipTests
{
    [Test]
    public void State_changes_off_the_loop_thread_are_refused_and_on_it_go_through()
    {
        using var loop = new EpollLoop(NullLogger.Instance, SystemClock.Instance);
        var launcher = new FakeLauncher();
        var scheduler = new Scheduler(new SchedulerSettings(), loop.Clock, loop, new FakeLoad(), launcher, new Counter(), NullLogger.Instance);

        // Not running yet, so this (the test's) thread is not the loop's.
        var refused = Assert.Throws<InvalidOperationException>(() => scheduler.EnqueueEntry(Harness.Script("init"), Array.Empty<string>()));
        Assert.That(refused!.Message, Does.Contain("not the event loop's"));
        Assert.That(scheduler.Jobs, Is.Empty, "nothing was changed");

        var started = new TaskCompletionSource<JobState>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(loop.Run) { IsBackground = true };
        thread.Start();
        loop.Post(() =>
        {
            try { started.SetResult(scheduler.EnqueueEntry(Harness.Script("init"), Array.Empty<string>()).State); }
            catch (Exception e) { started.SetException(e); }
            finally { loop.RequestStop(); }
        });
        Assert.That(started.Task.Wait(Poll.Default), Is.True, "the loop ran the posted enqueue");
        Assert.That(thread.Join(Poll.Default), Is.True, "the loop stopped");
        Assert.That(started.Task.Result, Is.EqualTo(JobState.Running));
        Assert.That(launcher.Launched, Has.Count.EqualTo(1));

        // A thread that is neither (a control session's, say) is refused too.
        var job = scheduler.Entry!;
        var fromPool = Task.Run(() => scheduler.Kill(job, 15, KillSource.Operator));
        Assert.Throws<InvalidOperationException>(() => fromPool.GetAwaiter().GetResult());
        Assert.That(launcher.Signals, Is.Empty);
    }
}
