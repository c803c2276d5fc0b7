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
}
