using Chaqum.EventLoop;
using Microsoft.Extensions.Logging;

namespace Chaqum.Scheduling;

/// <summary>
/// Delayed jobs (enqueue -d / -A, state Scheduled) and holds (chaqumctl hold, enqueue -H).
///
/// Scheduled jobs wait in one set ordered by due time, under a single wall-clock timer for
/// the earliest: 100 000 delayed jobs cost one timer, not 100 000. The timer is on the
/// wall clock (CLOCK_REALTIME, told when the clock is set), because a due time is a wall
/// time: after a suspend, or when the clock is set forward, whatever has come due goes to
/// its queue at once; when it is set back, nothing goes early.
///
/// A held job is kept out of its group's queue (it keeps its state), so the queue's head
/// is always a job that may start and StartQueued never walks over held ones.
/// </summary>
public sealed partial class Scheduler
{
    private readonly SortedSet<Job> _scheduled = new(DueOrder.Instance);
    private ITimerHandle? _dueTimer;
    private DateTimeOffset _dueTimerAt;

    public int ScheduledCount => _scheduled.Count;

    /// <summary>The job's dependencies have succeeded (or it had none): it waits for its due
    /// time, or joins its group's queue.</summary>
    private void Ready(Job job)
    {
        if (job.DueAt is { } due && due > _clock.WallNow)
        {
            JobStates.Move(job, JobState.Scheduled);
            _scheduled.Add(job);
            _log.LogDebug("{Job}: scheduled for {Due:yyyy-MM-dd HH:mm:ss zzz}", job.Id, due);
            ArmDueTimer();
            return;
        }
        JoinQueue(job);
    }

    /// <summary>Into the group's queue, unless held: a held job waits outside it.</summary>
    private void JoinQueue(Job job)
    {
        JobStates.Move(job, JobState.Queued);
        if (job.Held) return;
        job.Group.Enqueue(job);
        StartQueued(job.Group);
    }

    /// <summary>Moves every job whose due time has come to its queue, then re-arms.</summary>
    private void ReleaseDue()
    {
        var now = _clock.WallNow;
        while (_scheduled.Count > 0 && _scheduled.Min is { } job && job.DueAt <= now)
        {
            _scheduled.Remove(job);
            _log.LogDebug("{Job}: due", job.Id);
            JoinQueue(job);
        }
        ArmDueTimer();
    }

    /// <summary>One timer, for the earliest due time; re-armed only when that changes.</summary>
    private void ArmDueTimer()
    {
        var head = _scheduled.Count > 0 ? _scheduled.Min!.DueAt!.Value : (DateTimeOffset?)null;
        if (_dueTimer is not null && head == _dueTimerAt) return;
        _dueTimer?.Cancel();
        _dueTimer = null;
        if (head is not { } at) return;
        _dueTimerAt = at;
        _dueTimer = _timers.AtWallTime(at, OnDueTimer, () =>
        {
            // The wall clock was set: what is due now goes, the rest waits for its time.
            _log.LogInformation("wall clock changed; {Count} scheduled jobs rechecked", _scheduled.Count);
            OnDueTimer();
        });
    }

    private void OnDueTimer()
    {
        _dueTimer = null;
        // A firing is checked against the wall clock, not trusted: a timer may fire early
        // or late around a clock change, and only the due times decide.
        ReleaseDue();
    }

    /// <summary>A scheduled job leaves the set without running (killed, shutdown).</summary>
    private void Unschedule(Job job)
    {
        if (_scheduled.Remove(job)) ArmDueTimer();
    }

    /// <summary>Holds a job that has not started: it keeps its place in the delays and
    /// dependencies, but does not start until released.</summary>
    /// <exception cref="SchedulingException">The job is running or has ended.</exception>
    public void Hold(Job job)
    {
        OwnedByLoop();
        if (!job.State.IsActive())
            throw new SchedulingException($"job {job.Id} has ended ({job.State.Word()}); there is nothing to hold");
        if (job.State is JobState.Running or JobState.Starting)
            throw new SchedulingException($"job {job.Id} is running; hold keeps a job from starting (pause ID stops a running one)");
        if (job.Held) return;
        job.Held = true;
        JobChanged?.Invoke(job);   // the live journal keeps the hold across a crash
        if (job.State == JobState.Queued && job.Group.Dequeue(job)) StartQueued(job.Group);
        _log.LogInformation("{Job}: held by the operator", job.Id);
    }

    /// <summary>Releases a held job: if it was queued, it goes back to its group's queue at
    /// its place by priority and number.</summary>
    /// <exception cref="SchedulingException">The job has ended.</exception>
    public void Release(Job job)
    {
        OwnedByLoop();
        if (!job.State.IsActive())
            throw new SchedulingException($"job {job.Id} has ended ({job.State.Word()}); there is nothing to release");
        if (!job.Held)
            throw new SchedulingException($"job {job.Id} is {job.State.Word()}, not held");
        job.Held = false;
        JobChanged?.Invoke(job);
        _log.LogInformation("{Job}: released by the operator", job.Id);
        if (job.State != JobState.Queued) return;
        job.Group.Enqueue(job);
        StartQueued(job.Group);
    }

    private sealed class DueOrder : IComparer<Job>
    {
        public static readonly DueOrder Instance = new();
        public int Compare(Job? a, Job? b)
        {
            if (ReferenceEquals(a, b)) return 0;
            int byDue = a!.DueAt!.Value.CompareTo(b!.DueAt!.Value);
            return byDue != 0 ? byDue : a.Number.CompareTo(b.Number);
        }
    }
}
