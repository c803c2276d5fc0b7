using System.Text.Json.Serialization;

namespace Chaqum.Control.Messages;

// The results of the requests, and the events of streaming ones. Times are strings in
// ControlProtocol.TimeFormat; durations are seconds. A member with nothing to say is
// null on the wire, not missing (except the few of show marked otherwise).

public sealed record HelloResult
{
    public string Version { get; init; } = "";
    public int Protocol { get; init; }
    public string Tree { get; init; } = "";
    public int Pid { get; init; }
    public string StateDir { get; init; } = "";
    public string Socket { get; init; } = "";
    public string? StartedAt { get; init; }
    public bool Stopping { get; init; }
}

/// <summary>A job as ps, tree and snapshot show it.</summary>
public record JobInfo
{
    public string Id { get; init; } = "";
    public string Script { get; init; } = "";
    public IReadOnlyList<string> Args { get; init; } = [];
    /// <summary>pending, scheduled, held, queued, starting, running, paused, stopped, retrying,
    /// done, cancelled.</summary>
    public string State { get; init; } = "";
    public string? Group { get; init; }
    public string? Parent { get; init; }
    public int? Pid { get; init; }
    public string? EnqueuedAt { get; init; }
    public string? StartedAt { get; init; }
    public string? EndedAt { get; init; }
    public double? RuntimeSeconds { get; init; }
    public double? UsualSeconds { get; init; }
    public bool LongerThanUsual { get; init; }
    public int Attempt { get; init; }
    public int? Slot { get; init; }
    public int Priority { get; init; }
    public string? Status { get; init; }
    public string? Outcome { get; init; }
    public string? Repeat { get; init; }
    /// <summary>-d / -A: when it is (or was) due.</summary>
    public string? DueAt { get; init; }
    /// <summary>Held (chaqumctl hold, enqueue -H): it does not start until released.</summary>
    public bool Held { get; init; }
    /// <summary>-U: ahead of every job waiting in its group.</summary>
    public bool Urgent { get; init; }
    /// <summary>A plan's step: the plan's id; null for every other job.</summary>
    public string? Plan { get; init; }
    /// <summary>A plan's step: its place in the plan, "plan/3 > 1 > convert a.png".</summary>
    public string? PlanPath { get; init; }
    /// <summary>Where its current (or last) attempt runs when not on the daemon's machine:
    /// the executor ("slurm:main"); null for a local job. Pid is then the local srun's.</summary>
    public string? Executor { get; init; }
    /// <summary>The cluster node it runs on, once the cluster has placed it.</summary>
    public string? Node { get; init; }
    /// <summary>The cluster's id for it (the Slurm job id), once known.</summary>
    public string? ExternalId { get; init; }
}

/// <summary>hold and release: the job, its state word, and whether it is held now.</summary>
public sealed record HoldResult(string Id, string State, bool Held);

public sealed record JobRef(string Id, string State);

/// <summary>A job as show describes it: its ps view and more.</summary>
public sealed record JobDetails : JobInfo
{
    // After the members of JobInfo, as show has always listed them.
    public JobDetails(JobInfo info) : base(info) { }

    [JsonConstructor]
    public JobDetails() { }

    [JsonPropertyOrder(1)] public string Command { get; init; } = "";
    [JsonPropertyOrder(1)] public string Path { get; init; } = "";
    [JsonPropertyOrder(1)] public IReadOnlyList<string> Parents { get; init; } = [];
    [JsonPropertyOrder(1)] public IReadOnlyList<JobRef> Children { get; init; } = [];
    [JsonPropertyOrder(1)] public IReadOnlyList<string> WaitedOnBy { get; init; } = [];
    [JsonPropertyOrder(1)] public IReadOnlyList<string> Dependents { get; init; } = [];
    [JsonPropertyOrder(1)] public double? TimeoutSeconds { get; init; }
    [JsonPropertyOrder(1)] public int Retries { get; init; }
    [JsonPropertyOrder(1)] public string? Key { get; init; }
    [JsonPropertyOrder(1)] public string? EndReason { get; init; }
    /// <summary>Running only.</summary>
    [JsonPropertyOrder(1)][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Processes { get; init; }
    /// <summary>Running: so far; ended: the last attempt's user + system.</summary>
    [JsonPropertyOrder(1)][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? CpuSeconds { get; init; }
    /// <summary>Running only.</summary>
    [JsonPropertyOrder(1)][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? RssBytes { get; init; }
    /// <summary>Ended only.</summary>
    [JsonPropertyOrder(1)][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? MaxRssBytes { get; init; }
    [JsonPropertyOrder(1)] public int UsualRuns { get; init; }
    [JsonPropertyOrder(1)][JsonPropertyName("usual_p95_seconds")] public double? UsualP95Seconds { get; init; }
    [JsonPropertyOrder(1)] public IReadOnlyList<LogLine> Output { get; init; } = [];
}

public sealed record JobsResult(IReadOnlyList<JobInfo> Jobs)
{
    /// <summary>How many jobs matched the filters, before offset and limit.</summary>
    public int? Total { get; init; }
}
public sealed record ShowResult(JobDetails Job);

/// <summary>One line of a job's output.</summary>
public sealed record LogLine(string? Time, string Stream, string Level, string Text);

/// <summary>What log and enqueue-with-follow send before their answer. One member is set:
/// a line of output; the job that was enqueued (with its state); or how many lines this
/// reader missed because it fell behind (they were dropped, oldest first).</summary>
public sealed record ControlEvent
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public LogLine? Line { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Enqueued { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? State { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? Skipped { get; init; }
    /// <summary>events: something happened in the daemon.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DaemonEvent? Change { get; init; }
    /// <summary>plan_submit with follow: a step started or ended.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public PlanStepEvent? Step { get; init; }
}

/// <summary>One thing that happened, as the events request streams it. Kind says what:
/// enqueued, started, ended, retrying, paused, resumed, killed, changed (a hold, a
/// release, a priority) for a job; group (its limits or pause changed); repeat (added,
/// removed, enabled, disabled: see detail). The other members say about what.</summary>
public sealed record DaemonEvent
{
    public string Kind { get; init; } = "";
    public string? Time { get; init; }
    public string? Job { get; init; }
    public string? Script { get; init; }
    public string? Group { get; init; }
    /// <summary>The job's state after it, as ps shows it.</summary>
    public string? State { get; init; }
    /// <summary>ended, retrying: the protocol's status ("0", "-15", "N").</summary>
    public string? Status { get; init; }
    /// <summary>ended, retrying: as in history (exited, failed, killed, ...).</summary>
    public string? Outcome { get; init; }
    /// <summary>ended, retrying: the attempt's runtime, null if it never ran.</summary>
    public double? RuntimeSeconds { get; init; }
    public string? Repeat { get; init; }
    /// <summary>killed: the signal sent; group: paused or resumed; repeat: what changed.</summary>
    public string? Detail { get; init; }
}

/// <summary>status: the daemon's figures at one moment, cheap to ask for whatever the
/// size of the queue (counted, not listed).</summary>
public sealed record StatusResult
{
    public string Version { get; init; } = "";
    public string Tree { get; init; } = "";
    public int Pid { get; init; }
    public string? StartedAt { get; init; }
    public double UptimeSeconds { get; init; }
    public bool Stopping { get; init; }
    /// <summary>The jobs the daemon holds, by state as ps shows it.</summary>
    public IReadOnlyDictionary<string, int> Jobs { get; init; } = new Dictionary<string, int>();
    /// <summary>Processes started since the daemon started (every attempt).</summary>
    public long Spawns { get; init; }
    /// <summary>Attempts ended since the daemon started, by outcome (exited, failed, killed...).</summary>
    public IReadOnlyDictionary<string, long> Exits { get; init; } = new Dictionary<string, long>();
    public int Repeats { get; init; }
    /// <summary>The daemon's resident memory (its own, not its jobs').</summary>
    public long RssBytes { get; init; }
    /// <summary>How long this request waited for the event loop: what any job's command
    /// waits now.</summary>
    public double LoopLagSeconds { get; init; }
    /// <summary>Clients following events right now.</summary>
    public int EventSubscribers { get; init; }
}

/// <summary>A step of a followed plan changed: its job, place, state as plan_show words
/// it (running, succeeded, failed, not run) and status once ended.</summary>
public sealed record PlanStepEvent(string Plan, string Job, string Path, string State, string? Status);

/// <summary>The answer of log (and of enqueue with follow): the job's state and status,
/// all null for a job the daemon no longer holds.</summary>
public sealed record LogEnd
{
    public string? Id { get; init; }
    public string? State { get; init; }
    public string? Status { get; init; }
    public int? ExitCode { get; init; }
    public int? Signal { get; init; }
}

public sealed record Killed(string Id, string Was, string State);
public sealed record KillResult(IReadOnlyList<Killed> Killed, string Signal)
{
    /// <summary>kill -g: jobs outside the group that wait on or depend on its jobs, in
    /// sentences (null when ids were given).</summary>
    public IReadOnlyList<string>? Concerns { get; init; }
}

/// <summary>What unrepeat, disable, enable or trigger did to a repeat. trigger: the job it
/// enqueued, or why none (not_fired) and whether one follows the running firing (deferred).</summary>
public sealed record RepeatActionResult
{
    public string Id { get; init; } = "";
    /// <summary>enabled, disabled, or removed.</summary>
    public string State { get; init; } = "";
    public string? Job { get; init; }
    public string? NotFired { get; init; }
    public bool Deferred { get; init; }
}

public sealed record WaitedJob(string Id, string State, string Status);
public sealed record WaitResult(IReadOnlyList<WaitedJob> Jobs);

/// <summary>For a job: job and state; for a group: group and paused.</summary>
public sealed record PauseResult
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Job { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? State { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Group { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public bool? Paused { get; init; }
}

public sealed record ReniceResult(string Id, int Nice);
public sealed record PrioResult(string Id, int Priority);
public sealed record EnqueueResult(string Id, string State);

public sealed record GroupInfo
{
    /// <summary>null for the default group (jobs enqueued without -g).</summary>
    public string? Name { get; init; }
    public int MaxProcs { get; init; }
    public int Running { get; init; }
    public int Queued { get; init; }
    public bool Paused { get; init; }
    public string? Barriers { get; init; }
    public double? MaxCpu { get; init; }
    public double? MaxLoad { get; init; }
    public long? MinMemory { get; init; }
    public double? MaxPressure { get; init; }
    public string? HeldBy { get; init; }
    /// <summary>-B: consecutive failures that pause the group; 0: never.</summary>
    public int BreakAfter { get; init; }
    public int ConsecutiveFailures { get; init; }
    /// <summary>Why the group paused itself ("3 consecutive failures, last: JOB exit 1").</summary>
    public string? PausedReason { get; init; }
    /// <summary>Where its jobs run (group -x): null for this machine, else "slurm", "slurm:PARTITION".</summary>
    public string? Executor { get; init; }
    /// <summary>group -X: the executor's extra arguments (srun options).</summary>
    public IReadOnlyList<string>? ExecutorArgs { get; init; }
}

public sealed record GroupsResult(IReadOnlyList<GroupInfo> Groups);

public sealed record RepeatInfo
{
    public string Id { get; init; } = "";
    public string Script { get; init; } = "";
    public IReadOnlyList<string> Args { get; init; } = [];
    public string Schedule { get; init; } = "";
    /// <summary>The IANA zone a cron schedule runs in (repeat -z, else the daemon's); null for intervals.</summary>
    public string? Zone { get; init; }
    public string? Group { get; init; }
    public bool Overlap { get; init; }
    public string? Owner { get; init; }
    public string? NextAt { get; init; }
    public string? LastFiredAt { get; init; }
    public string? LastJob { get; init; }
    public string? LastState { get; init; }
    public string? LastStatus { get; init; }
    public long Fired { get; init; }
    public long Skipped { get; init; }
    /// <summary>Disabled by the operator: firings are skipped.</summary>
    public bool Disabled { get; init; }
    /// <summary>A file trigger's directories (recursive ones end in /**); null for clock repeats.</summary>
    public IReadOnlyList<string>? Watch { get; init; }
    public double? SettleSeconds { get; init; }
    /// <summary>A file trigger's changed paths not yet handed to a firing.</summary>
    public int? PendingChanges { get; init; }
}

public sealed record RepeatsResult(IReadOnlyList<RepeatInfo> Repeats);

public sealed record Snapshot
{
    public string? TakenAt { get; init; }
    public string Tree { get; init; } = "";
    public int DaemonPid { get; init; }
    public bool Stopping { get; init; }
    public IReadOnlyList<JobInfo> Jobs { get; init; } = [];
    public IReadOnlyList<GroupInfo> Groups { get; init; } = [];
    public IReadOnlyList<RepeatInfo> Repeats { get; init; } = [];
}

/// <summary>A plan as plan list shows it.</summary>
public record PlanSummary
{
    public string Id { get; init; } = "";
    public string? Name { get; init; }
    /// <summary>running, succeeded, failed, cancelled (lost only in the history).</summary>
    public string State { get; init; } = "";
    /// <summary>Why it failed or was cancelled.</summary>
    public string? Reason { get; init; }
    /// <summary>The job of the first step that failed.</summary>
    public string? FailedStep { get; init; }
    /// <summary>That step's place in the plan.</summary>
    public string? FailedPath { get; init; }
    /// <summary>The job that submitted it; null for the operator.</summary>
    public string? Submitter { get; init; }
    public string? SubmittedAt { get; init; }
    public string? EndedAt { get; init; }
    public double RuntimeSeconds { get; init; }
    public int Steps { get; init; }
    public int StepsEnded { get; init; }
    public int StepsFailed { get; init; }
    /// <summary>The Slurm allocation of each role whose group runs on Slurm (one node per
    /// role, made before the first step); empty for a plan that has none.</summary>
    public IReadOnlyList<PlanAllocationInfo> Allocations { get; init; } = [];
}

/// <summary>One role's node: state allocating (salloc waits for Slurm; the plan's steps
/// are not enqueued yet), granted, failed, withdrawn or released; its Slurm job and node
/// once granted; why it failed.</summary>
public sealed record PlanAllocationInfo(string Role, string State, string? SlurmJob, string? Node, string? Reason);

/// <summary>A plan with its tree (plan_show), the nodes flat in document order: each
/// node's depth says where it hangs (the tree of 64 nested groups would be deeper than the
/// control protocol's JSON may nest).</summary>
public sealed record PlanView : PlanSummary
{
    public PlanView(PlanSummary summary) : base(summary) { }

    [JsonConstructor]
    public PlanView() { }

    [JsonPropertyOrder(1)] public IReadOnlyList<PlanNodeView> Nodes { get; init; } = [];
}

/// <summary>One node of a plan: a group's state is made of its steps' (waiting, running,
/// succeeded, failed, not run); a step's is its job's while it lives (pending, queued,
/// running...), then succeeded, failed or not run.</summary>
public sealed record PlanNodeView
{
    /// <summary>Its JSON path in the document: "$.work[1].work[0]".</summary>
    public string Path { get; init; } = "";
    public int Depth { get; init; }
    /// <summary>execute, sequence_group or parallel_group.</summary>
    public string Type { get; init; } = "";
    public string? Name { get; init; }
    /// <summary>Its name, or index in its group, or (a step) its command.</summary>
    public string Label { get; init; } = "";
    public string? Role { get; init; }
    public string State { get; init; } = "";
    /// <summary>A step's job.</summary>
    public string? Job { get; init; }
    /// <summary>A step's status once ended (0..255, -SIG, N).</summary>
    public string? Status { get; init; }
    public string? Reason { get; init; }
    public string? StartedAt { get; init; }
    public string? EndedAt { get; init; }
    public double? RuntimeSeconds { get; init; }
}

public sealed record PlanSubmitResult(string Id, int Steps);
public sealed record PlansResult(IReadOnlyList<PlanSummary> Plans);
