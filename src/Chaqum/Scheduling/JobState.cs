namespace Chaqum.Scheduling;

/// <summary>
/// A job's life. Every transition goes through <see cref="JobStates.Move"/>, which knows
/// the allowed ones:
///
///   Pending ──> Queued ──> Starting ──> Running ──> Done
///    │  │        ^  │  ^         │           │          ^
///    │  │        │  │  └─────────┘ (spawn    └─> Retrying ─┘ (killed while backing off)
///    │  │        │  │   temporarily failed)          │
///    │  └─>Scheduled│ (-d/-A: until due)             └──> Queued (next attempt)
///    │          │   │
///    └──────────┴───┴──> Cancelled (killed before start, dependency failed, spawn
///                         failed, shutdown)
///
/// A hold (chaqumctl hold, enqueue -H) is not a state: a held job goes through Pending,
/// Scheduled and Queued as any other, but is kept out of its group's queue, so it does
/// not start until released.
/// </summary>
public enum JobState
{
    /// <summary>Waiting for its -a dependencies to succeed.</summary>
    Pending,
    /// <summary>-d / -A: waiting for its due time (its dependencies, if any, have succeeded).</summary>
    Scheduled,
    /// <summary>In its group's queue, waiting for a slot or a barrier.</summary>
    Queued,
    /// <summary>Being spawned.</summary>
    Starting,
    Running,
    /// <summary>Between attempts: the last one failed and a retry is due after a backoff.</summary>
    Retrying,
    /// <summary>Ran and ended: exit code or signal known.</summary>
    Done,
    /// <summary>Ended without running to an exit (status N).</summary>
    Cancelled,
}

public static class JobStates
{
    private static readonly HashSet<(JobState, JobState)> Allowed = new()
    {
        (JobState.Pending, JobState.Queued),
        (JobState.Pending, JobState.Cancelled),
        (JobState.Pending, JobState.Scheduled),
        (JobState.Scheduled, JobState.Queued),
        (JobState.Scheduled, JobState.Cancelled),
        (JobState.Queued, JobState.Starting),
        (JobState.Queued, JobState.Cancelled),
        (JobState.Starting, JobState.Running),
        (JobState.Starting, JobState.Queued),
        (JobState.Starting, JobState.Cancelled),
        (JobState.Running, JobState.Done),
        (JobState.Running, JobState.Retrying),
        (JobState.Retrying, JobState.Queued),
        (JobState.Retrying, JobState.Done),
    };

    public static bool CanMove(JobState from, JobState to) => Allowed.Contains((from, to));

    /// <summary>Moves the job to a new state or throws: an illegal move is a daemon bug.</summary>
    public static void Move(Job job, JobState to)
    {
        if (!CanMove(job.State, to))
            throw new InvalidOperationException($"job {job.Id}: illegal transition {job.State} -> {to}");
        job.State = to;
    }

    /// <summary>True while the job may still run: it keeps the daemon alive.</summary>
    public static bool IsActive(this JobState state) => state is not (JobState.Done or JobState.Cancelled);

    public static bool IsFinished(this JobState state) => !state.IsActive();

    /// <summary>The word used in operator listings.</summary>
    public static string Word(this JobState state) => state switch
    {
        JobState.Pending => "pending",
        JobState.Scheduled => "scheduled",
        JobState.Queued => "queued",
        JobState.Starting => "starting",
        JobState.Running => "running",
        JobState.Retrying => "retrying",
        JobState.Done => "done",
        JobState.Cancelled => "cancelled",
        _ => state.ToString().ToLowerInvariant(),
    };
}
