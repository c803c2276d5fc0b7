namespace Chaqum.Scheduling;

/// <summary>What the scheduler needs from the process side; unit tests substitute a fake.</summary>
public interface IJobLauncher
{
    /// <summary>Spawns the job's current attempt. Exit is reported later through
    /// <see cref="Scheduler.OnExited"/>.</summary>
    LaunchResult Launch(Job job);

    /// <summary>Sends a signal to the job's whole process group.</summary>
    void Signal(Job job, int signal);

    /// <summary>A job being killed has exited, but may have left processes behind (a
    /// child that ignores SIGTERM outlives the shell that did not): signals them, once.
    /// Called for every job that exited while a kill of it was under way.</summary>
    void SignalRemnants(Job job, int signal) { }
}

public readonly record struct LaunchResult(int Pid, string? Error, bool Transient)
{
    public bool Ok => Error is null;
    public static LaunchResult Started(int pid) => new(pid, null, false);
    public static LaunchResult Failed(string error, bool transient) => new(0, error, transient);
}

/// <summary>Hands out the N of SCRIPT/N ids; never the same twice for a tree.</summary>
public interface IJobNumbers
{
    long Next();

    /// <summary>A number already in use (a job resumed after a restart keeps its own):
    /// never to be handed out again.</summary>
    void Reserve(long number) { }
}

public sealed class SchedulingException(string message) : Exception(message);

public sealed class SchedulerSettings
{
    /// <summary>How long a TERM'd job gets before KILL.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Load sampling period while a barrier is waited on (also the pacing step).</summary>
    public TimeSpan SamplePeriod { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan RetryBase { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan RetryCap { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>After a transient spawn failure (EAGAIN, EMFILE) the group tries again after this.</summary>
    public TimeSpan SpawnRetryDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Final statuses remembered for -a dependencies after results are gone.</summary>
    public int RecentStatuses { get; init; } = 65536;
    /// <summary>Unfetched results kept for wait; beyond this the oldest are dropped.</summary>
    public int RetainedResults { get; init; } = 100_000;
    public TimeZoneInfo Zone { get; init; } = TimeZoneInfo.Local;
}
