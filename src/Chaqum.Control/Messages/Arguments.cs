namespace Chaqum.Control.Messages;

// The arguments of each request. Every member may be left out; the daemon says which it
// needs. Lists are arrays of strings (a null inside one is refused by the daemon).

public sealed record NoArgs;

public sealed record PsArgs
{
    public bool All { get; init; }
    public string? Group { get; init; }
    /// <summary>Only jobs in this state, as ps shows it (scheduled, held, queued, ...).</summary>
    public string? State { get; init; }
    /// <summary>Only jobs of this script (relative to the tree).</summary>
    public string? Script { get; init; }
    /// <summary>Only running jobs that run longer than usual (the kill list).</summary>
    public bool Longer { get; init; }
    /// <summary>"runtime": longest running first (jobs without a runtime last, oldest
    /// first); otherwise (null, "id") oldest first.</summary>
    public string? Sort { get; init; }
    /// <summary>Paging, done by the daemon: skip this many of the matching jobs...</summary>
    public int? Offset { get; init; }
    /// <summary>...and list at most this many. The answer's total counts them all.</summary>
    public int? Limit { get; init; }
}

/// <summary>events: what the daemon reports as it happens. With job: only that job's
/// events (and no group or repeat ones).</summary>
public sealed record EventsArgs
{
    public string? Job { get; init; }
}

public sealed record ShowArgs
{
    public string? Id { get; init; }
    public int? Lines { get; init; }
}

public sealed record LogArgs
{
    public string? Id { get; init; }
    /// <summary>The last N lines; -1 (the default) for all.</summary>
    public int? Lines { get; init; }
    public bool Follow { get; init; }
}

public sealed record KillArgs
{
    public List<string>? Ids { get; init; }
    /// <summary>A name with or without SIG, or a number; TERM by default.</summary>
    public string? Signal { get; init; }
    /// <summary>Every unfinished job of this group (instead of ids).</summary>
    public string? Group { get; init; }
    /// <summary>Kill nothing: answer with what would be killed and who waits on it.</summary>
    public bool Preview { get; init; }
}

/// <summary>unrepeat, disable, enable, trigger: one repeat.</summary>
public sealed record RepeatArgs
{
    public string? Id { get; init; }
}

public sealed record WaitArgs
{
    public List<string>? Ids { get; init; }
    /// <summary>Seconds; 30 by default.</summary>
    public double? Timeout { get; init; }
}

public sealed record PauseArgs
{
    public string? Target { get; init; }
    /// <summary>TARGET is a group even if a job has that id. "-" (or "") names the ungrouped jobs.</summary>
    public bool Group { get; init; }
    /// <summary>Every group, the ungrouped jobs included (TARGET is left out).</summary>
    public bool All { get; init; }
}

public sealed record HoldArgs
{
    public string? Id { get; init; }
}

public sealed record ReniceArgs
{
    public string? Id { get; init; }
    public int? Nice { get; init; }
}

public sealed record PrioArgs
{
    public string? Id { get; init; }
    public int? Priority { get; init; }
}

public sealed record EnqueueArgs
{
    /// <summary>The words of a protocol enqueue: ["-g", "convert", "--", "convert", "a.png"].</summary>
    public List<string>? Words { get; init; }
    /// <summary>Stream the job's output (log events) and answer when it ends, as log -f.</summary>
    public bool Follow { get; init; }
}

/// <summary>plan_submit: the plan document (JSON text, docs/plans.md) as a string, so the
/// control protocol's own depth limit does not apply to the plan's nesting.</summary>
public sealed record PlanSubmitArgs
{
    public string? Document { get; init; }
    /// <summary>Stream each step's progress (events) and answer when the plan ends, with
    /// the plan as plan_show gives it.</summary>
    public bool Follow { get; init; }
}

/// <summary>plan_show, plan_cancel: one plan.</summary>
public sealed record PlanArgs
{
    public string? Id { get; init; }
}
