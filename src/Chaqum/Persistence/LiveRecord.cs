using System.Diagnostics.CodeAnalysis;
using Chaqum.History;

namespace Chaqum.Persistence;

/// <summary>A job that was running or queued when the daemon last wrote its live journal:
/// the material of crash recovery (a clean stop leaves none).</summary>
public sealed record LiveRecord : JobRecord
{
    public LiveRecord() { }

    [SetsRequiredMembers]
    public LiveRecord(JobRecord job) : base(job) { }

    /// <summary>The process's start time in clock ticks since boot (/proc/PID/stat field
    /// 22): tells our process from a later one that reused its pid. 0: not known.</summary>
    public long StartTicks { get; init; }

    /// <summary>The job's cgroup directory, if it had one.</summary>
    public string? Cgroup { get; init; }

    // What enqueues it again after a restart. Number is null for what cannot be kept
    // (the entry job, repeat firings, a journal of an earlier version).
    public long? Number { get; init; }
    public int Priority { get; init; }
    public TimeSpan? Timeout { get; init; }
    public int Retries { get; init; }
    public string? Key { get; init; }
    public bool Forget { get; init; }
    public bool Requeue { get; init; }
    /// <summary>-a ids it still waited for.</summary>
    public string[] Dependencies { get; init; } = Array.Empty<string>();
    public DateTimeOffset? DueAt { get; init; }
    public bool Held { get; init; }
    public bool Urgent { get; init; }
}
