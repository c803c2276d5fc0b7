using System.Diagnostics.CodeAnalysis;

namespace Chaqum.History;

/// <summary>
/// What every record of a job holds: which job and attempt, what it runs, where it came
/// from, when. A run and the daemon's live record (its journal) are both this plus their
/// own fields, and one is made from the other (a live job lost in a crash becomes a run)
/// with the copy constructor records give.
/// </summary>
public abstract record JobRecord
{
    protected JobRecord() { }

    public required string Id { get; init; }
    public int Attempt { get; init; }
    public required string Script { get; init; }
    public string[] Args { get; init; } = Array.Empty<string>();
    public string? Group { get; init; }
    public string? Parent { get; init; }
    public DateTimeOffset EnqueuedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public int Pid { get; init; }
    /// <summary>The plan the job is a step of (plan/N); null for every other job.</summary>
    public string? Plan { get; init; }
}

/// <summary>Only the <see cref="JobRecord"/> fields: the start of a run or live record.</summary>
public sealed record JobHead : JobRecord;

/// <summary>One run (attempt) of a job, as kept in the history.</summary>
public sealed record RunRecord : JobRecord
{
    public RunRecord() { }

    /// <summary>A run of the job another record describes; Outcome is still to be set.</summary>
    [SetsRequiredMembers]
    public RunRecord(JobRecord job) : base(job) => Outcome = "";

    public DateTimeOffset? EndedAt { get; init; }
    public double? RuntimeSeconds { get; init; }
    /// <summary>Null when the run did not exit by itself (killed, or never started).</summary>
    public int? ExitCode { get; init; }
    /// <summary>The signal that ended it, if one did.</summary>
    public int? Signal { get; init; }
    /// <summary>exited, failed, killed, timed_out, cancelled, dependency_failed, spawn_failed, lost.</summary>
    public required string Outcome { get; init; }
    public double CpuUserSeconds { get; init; }
    public double CpuSystemSeconds { get; init; }
    public long MaxRssBytes { get; init; }
}

/// <summary>Per-script figures over its recorded runs.</summary>
public sealed record ScriptStats
{
    public required string Script { get; init; }
    public int Runs { get; init; }
    public int Failures { get; init; }
    public double? MedianSeconds { get; init; }
    public double? P95Seconds { get; init; }
    public double? MaxSeconds { get; init; }
    public double CpuSeconds { get; init; }
    public long MaxRssBytes { get; init; }
}

public sealed record HistoryQuery
{
    public string? Script { get; init; }
    public DateTimeOffset? Since { get; init; }
    public bool FailedOnly { get; init; }
    public bool LostOnly { get; init; }
    public string? Id { get; init; }
    /// <summary>Only the steps of this plan.</summary>
    public string? Plan { get; init; }
    public int Limit { get; init; } = 1000;
}

/// <summary>One plan, as the history keeps it once it has ended (or was lost in a crash).</summary>
public sealed record PlanRecord
{
    public required string Id { get; init; }
    public string? Name { get; init; }
    /// <summary>succeeded, failed, cancelled, lost.</summary>
    public required string Outcome { get; init; }
    public string? Submitter { get; init; }
    public DateTimeOffset SubmittedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public double? RuntimeSeconds { get; init; }
    public int Steps { get; init; }
    /// <summary>Steps that had ended (run or not run) when the plan ended or was lost.</summary>
    public int StepsEnded { get; init; }
    /// <summary>The job of the first step that failed, and its place in the plan.</summary>
    public string? FailedStep { get; init; }
    public string? FailedPath { get; init; }
    public string? Reason { get; init; }
}

public sealed record PlanQuery
{
    public DateTimeOffset? Since { get; init; }
    public bool FailedOnly { get; init; }
    public string? Id { get; init; }
    public int Limit { get; init; } = 1000;
}
