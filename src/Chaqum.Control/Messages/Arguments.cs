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
