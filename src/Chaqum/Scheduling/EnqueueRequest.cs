namespace Chaqum.Scheduling;

/// <summary>Everything an enqueue (or a repeat firing) asks for.</summary>
public sealed record EnqueueRequest(ScriptPath Script, string[] Args)
{
    public Job? Parent { get; init; }
    public Job? Owner { get; init; }
    public Repeats.Repeat? Repeat { get; init; }
    public string? GroupName { get; init; }
    public GroupLimits Limits { get; init; } = GroupLimits.Unchanged;
    public JobOptions Options { get; init; } = JobOptions.Default;
    public int Priority { get; init; }
    public IReadOnlyList<string> Dependencies { get; init; } = Array.Empty<string>();
    /// <summary>A plan step: the one job (or join point of many) it waits for, beside any
    /// -a ids. Plans pass the objects, not ids, so that a step never waits on a namesake.</summary>
    public Job? AfterJob { get; init; }
    public Join? AfterJoin { get; init; }
    /// <summary>A plan step: which plan and where in it (shown by ps, show, the logs).</summary>
    public Plans.PlanStep? Step { get; init; }
    /// <summary>Overrides the SCRIPT/N id (the entry job is called by its script name).</summary>
    public string? Id { get; init; }
    public bool IsEntry { get; init; }
    /// <summary>-d / -A: the job waits (scheduled) until then before it joins its group's queue.</summary>
    public DateTimeOffset? DueAt { get; init; }
    /// <summary>-H: enqueued held; it does not start until an operator releases it.</summary>
    public bool Held { get; init; }
    /// <summary>-U: starts before anything else waiting, still within its group's limits.</summary>
    public bool Urgent { get; init; }
    /// <summary>A job resumed after a restart keeps the number (and the id) it had.</summary>
    public long? Number { get; init; }
    /// <summary>A resumed job: the attempts it has made already (they count against -r).</summary>
    public int AttemptsMade { get; init; }
    /// <summary>A resumed job whose parent did not come back: the parent's id.</summary>
    public string? FormerParent { get; init; }
    /// <summary>A file trigger's firing: the changed paths its job is given.</summary>
    public Repeats.ChangeBatch? Changes { get; init; }
}

/// <summary>What a repeat registration asks for.</summary>
public sealed record RepeatRequest(ScriptPath Script, string[] Args, string Schedule)
{
    public TimeSpan? Every { get; init; }
    public Repeats.ICronSchedule? Cron { get; init; }
    /// <summary>The zone a cron schedule is read in (-z); null: the daemon's.</summary>
    public TimeZoneInfo? Zone { get; init; }
    public Job? Owner { get; init; }
    public string? GroupName { get; init; }
    public GroupLimits Limits { get; init; } = GroupLimits.Unchanged;
    public JobOptions Options { get; init; } = JobOptions.Default;
    public int Priority { get; init; }
    public bool AllowOverlap { get; init; }
    /// <summary>-w / -W: a file trigger on these directories (absolute paths) instead of a clock.</summary>
    public IReadOnlyList<Repeats.WatchedPath>? Watch { get; init; }
    /// <summary>--settle: how long no change must come before a file trigger fires.</summary>
    public TimeSpan Settle { get; init; } = DefaultSettle;

    public static readonly TimeSpan DefaultSettle = TimeSpan.FromSeconds(0.5);
}
