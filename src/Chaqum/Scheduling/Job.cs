using Chaqum.EventLoop;
using Chaqum.Scheduling.Repeats;

namespace Chaqum.Scheduling;

/// <summary>Who asked for a job to be killed: decides whether a failed run is retried.</summary>
public enum KillSource { None, Command, Operator, Shutdown, Timeout }

/// <summary>
/// One job: a script of the tree with its arguments, from enqueue to end. Owned by the
/// scheduler and touched only on the loop thread. Kept small: 100 000 of them may wait
/// in a queue at once.
/// </summary>
public sealed class Job
{
    public Job(string id, long number, ScriptPath script, string[] args, Job? parent, Group group, JobOptions options)
    {
        Id = id;
        Number = number;
        Script = script;
        Args = args;
        Parent = parent;
        Group = group;
        Options = options;
    }

    public string Id { get; }
    /// <summary>The N of SCRIPT/N: orders first-come-first-served within a priority.</summary>
    public long Number { get; }
    public ScriptPath Script { get; }
    public string[] Args { get; }
    /// <summary>The job that enqueued this one; null for the entry job and repeats.</summary>
    public Job? Parent { get; }
    /// <summary>A job resumed after a restart whose parent did not come back: the id the
    /// parent had (its result goes unclaimed; CHAQUM_PARENT and the history still name it).</summary>
    public string? FormerParentId { get; init; }
    /// <summary>The id of the job that enqueued this one, whether or not it still exists.</summary>
    public string? ParentId => Parent?.Id ?? FormerParentId;
    /// <summary>A step of a plan: which, and where in it; null for every other job.</summary>
    public Plans.PlanStep? Step { get; init; }
    /// <summary>For repeat firings: the job that registered the repeat (for kill permission).</summary>
    public Job? Owner { get; init; }
    /// <summary>The tree's entry job (init), the one the daemon itself started.</summary>
    public bool IsEntry { get; init; }
    public Repeat? Repeat { get; init; }
    public Group Group { get; }
    public JobOptions Options { get; }
    public int Priority { get; set; }
    /// <summary>-d / -A: when the job becomes due; until then it waits, scheduled.</summary>
    public DateTimeOffset? DueAt { get; internal set; }
    /// <summary>Held by an operator (hold, enqueue -H): it does not start until released.</summary>
    public bool Held { get; internal set; }
    /// <summary>-U: starts before anything else waiting, still within its group's limits.</summary>
    public bool Urgent { get; internal set; }

    public JobState State { get; internal set; } = JobState.Pending;
    public int Attempt { get; internal set; }
    public bool Paused { get; internal set; }

    public DateTimeOffset EnqueuedAt { get; init; }
    public DateTimeOffset? EndedAt { get; internal set; }

    public JobStatus Status { get; internal set; } = JobStatus.NeverRan;
    public Outcome Outcome { get; internal set; }
    public string? EndReason { get; internal set; }
    public KillSource KillSource { get; internal set; }

    /// <summary>Whether wait can still fetch the result once it has ended.</summary>
    public bool ResultRetained { get; internal set; }

    internal ITimerHandle? Timer { get; set; }
    internal int PendingDependencies { get; set; }
    /// <summary>While pending: the jobs it waits for (-a), so that the live journal can
    /// keep them across a restart. Null once it is queued (most jobs never have any).</summary>
    internal Job[]? WaitsOn { get; set; }
    /// <summary>Kept for the next start at an orderly stop: it waits, and neither runs nor
    /// ends in this daemon (see Scheduler.Shutdown).</summary>
    public bool Kept { get; internal set; }

    /// <summary>What only a job that has started has: kept apart, because most of the
    /// jobs in memory at any time may be queued ones that never started yet (memory per
    /// queued job, docs/performance.md).</summary>
    private sealed class RunState
    {
        public int Pid;
        public int LastPid;
        public int Slot = -1;
        public DateTimeOffset? StartedAt;
        public TimeSpan StartedMono;
        public ResourceUsage Usage;
        public ITimerHandle? EscalationTimer;
        public TimeSpan LastRuntime;
    }

    private RunState? _run;
    private RunState Run => _run ??= new RunState();

    public int Pid { get => _run?.Pid ?? 0; internal set => Run.Pid = value; }
    /// <summary>The pid of the last attempt (kept after it ended, for the history).</summary>
    public int LastPid { get => _run?.LastPid ?? 0; internal set => Run.LastPid = value; }
    public int Slot { get => _run?.Slot ?? -1; internal set => Run.Slot = value; }
    public DateTimeOffset? StartedAt { get => _run?.StartedAt; internal set => Run.StartedAt = value; }
    /// <summary>Monotonic start of the current attempt, for runtimes and timeouts.</summary>
    public TimeSpan StartedMono { get => _run?.StartedMono ?? TimeSpan.Zero; internal set => Run.StartedMono = value; }
    public ResourceUsage Usage { get => _run?.Usage ?? default; internal set => Run.Usage = value; }
    internal ITimerHandle? EscalationTimer { get => _run?.EscalationTimer; set => Run.EscalationTimer = value; }
    /// <summary>Runtime of the last attempt that ran.</summary>
    public TimeSpan LastRuntime { get => _run?.LastRuntime ?? TimeSpan.Zero; internal set => Run.LastRuntime = value; }

    private List<Action<Job>>? _finishWatchers;
    private List<Job>? _children;
    private List<Job>? _dependents;
    private List<Job>? _waiters;

    /// <summary>Jobs waiting (-a) for this one to succeed before they start.</summary>
    public IReadOnlyList<Job> Dependents => (IReadOnlyList<Job>?)_dependents?.Where(d => d.State == JobState.Pending).ToList() ?? Array.Empty<Job>();

    /// <summary>Jobs whose wait or killjobs command is waiting for this one right now.</summary>
    public IReadOnlyList<Job> Waiters => (IReadOnlyList<Job>?)_waiters ?? Array.Empty<Job>();

    internal void AddDependent(Job job) => (_dependents ??= new()).Add(job);

    public void AddWaiter(Job job) => (_waiters ??= new()).Add(job);

    public void RemoveWaiter(Job job) => _waiters?.Remove(job);

    public IReadOnlyList<Job> Children => (IReadOnlyList<Job>?)_children ?? Array.Empty<Job>();

    // Where this job sits in its parent's _children, for removal in O(1): a job that
    // enqueued 300 000 children had each removal shift the whole list (half a minute of
    // event loop in all, found by the load tests).
    private int _indexInParent = -1;

    internal void AddChild(Job child)
    {
        var list = _children ??= new();
        child._indexInParent = list.Count;
        list.Add(child);
    }

    /// <summary>The last child takes the removed one's place (the order is not kept).</summary>
    internal void RemoveChild(Job child)
    {
        int i = child._indexInParent;
        if (_children is null || i < 0 || i >= _children.Count || !ReferenceEquals(_children[i], child)) return;
        var last = _children[^1];
        _children[i] = last;
        last._indexInParent = i;
        _children.RemoveAt(_children.Count - 1);
        child._indexInParent = -1;
    }

    /// <summary>Calls back once when the job ends (or at once if it has).</summary>
    public void OnFinished(Action<Job> watcher)
    {
        if (State.IsFinished()) { watcher(this); return; }
        (_finishWatchers ??= new()).Add(watcher);
    }

    public void RemoveFinishWatcher(Action<Job> watcher) => _finishWatchers?.Remove(watcher);

    internal void NotifyFinished()
    {
        _dependents = null;
        var watchers = _finishWatchers;
        _finishWatchers = null;
        if (watchers is null) return;
        foreach (var w in watchers) w(this);
    }

    /// <summary>True when this job was enqueued, directly or indirectly, by the ancestor.
    /// A repeat's firings count as enqueued by the job that registered the repeat.</summary>
    public bool IsDescendantOf(Job ancestor)
    {
        for (var j = Parent ?? Owner; j is not null; j = j.Parent ?? j.Owner)
            if (ReferenceEquals(j, ancestor)) return true;
        return false;
    }

    public override string ToString() => Id;
}

/// <summary>What enqueue said about a job, besides its group.</summary>
public sealed record JobOptions
{
    public static readonly JobOptions Default = new();
    public TimeSpan? Timeout { get; init; }
    public int Retries { get; init; }
    public string? Key { get; init; }
    public bool Forget { get; init; }
    /// <summary>-R: if it is running when the daemon stops in order, it runs again after
    /// the restart (the attempt counts).</summary>
    public bool Requeue { get; init; }
}

/// <summary>A script inside the tree: the relative path used in ids, and the path we exec.</summary>
public sealed record ScriptPath(string Relative, string Absolute);
