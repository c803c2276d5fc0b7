using Chaqum.Scheduling.Barriers;

namespace Chaqum.Scheduling;

/// <summary>
/// A named set of jobs sharing limits: at most MaxProcs running (0 = unlimited) and
/// barriers on the machine's load that hold back new starts. Created on first mention;
/// limits given later replace earlier ones (the latest values win). Jobs enqueued
/// without -g belong to the unnamed group, which has no limits.
/// </summary>
public sealed class Group
{
    public Group(string name) => Name = name;

    public string Name { get; }
    public bool IsDefault => Name.Length == 0;
    public int MaxProcs { get; set; }
    public BarrierSet Barriers { get; set; } = BarrierSet.None;
    public bool Paused { get; set; }
    /// <summary>Why the group paused itself (its failure breaker); null when it did not.</summary>
    public string? PausedReason { get; internal set; }

    /// <summary>-B N: the group pauses itself after N consecutive failed runs; 0 never.</summary>
    public int BreakAfter { get; set; }
    /// <summary>Failed runs since the last success (or resume).</summary>
    public int ConsecutiveFailures { get; internal set; }

    public int Running { get; internal set; }

    /// <summary>Where the group's jobs run (group -x, -X): locally unless told otherwise.</summary>
    public Executor Executor { get; set; } = Executor.Local;

    /// <summary>Jobs of this group that have not finished (queued, pending, running or
    /// between retries).</summary>
    internal int Members { get; set; }

    /// <summary>Nothing would be lost by forgetting the group: no job of it is left and
    /// it holds no settings (a cap, barriers, a pause). The next mention makes it anew,
    /// as the first one did. Without this, a tree that names groups after, say, its
    /// customers would grow the daemon by a group per name, for as long as it runs.</summary>
    internal bool Forgettable => !IsDefault && Members == 0 && MaxProcs == 0 && BreakAfter == 0 && Barriers.IsEmpty && !Paused && SpawnBackoff is null && Executor.IsLocal;
    public Slots Slots { get; } = new();

    /// <summary>The sample number that allowed the last barrier-gated start: the next one
    /// waits for a fresher sample, so a herd cannot overshoot before the figures can show
    /// its effect.</summary>
    internal long GatedAtSample { get; set; } = -1;

    /// <summary>Why the head of the queue is not starting, for operators; null if it could.</summary>
    public string? HoldReason { get; set; }

    /// <summary>Urgent (-U) first, then higher priority, then first come first served.
    /// Held jobs are not in it (Scheduler.Delays.cs).</summary>
    private readonly SortedSet<Job> _queue = new(QueueOrder.Instance);

    public int QueuedCount => _queue.Count;
    public IEnumerable<Job> Queued => _queue;
    public Job? Head => _queue.Count > 0 ? _queue.Min : null;

    internal void Enqueue(Job job) => _queue.Add(job);
    internal bool Dequeue(Job job) => _queue.Remove(job);

    /// <summary>Changes a queued job's priority, keeping the queue ordered.</summary>
    internal void Reprioritise(Job job, int priority)
    {
        bool queued = _queue.Remove(job);
        job.Priority = priority;
        if (queued) _queue.Add(job);
    }

    /// <summary>Set while the group waits out a transient spawn failure.</summary>
    internal Chaqum.EventLoop.ITimerHandle? SpawnBackoff { get; set; }

    public bool HasCapacity => MaxProcs == 0 || Running < MaxProcs;

    public string Label => IsDefault ? "-" : Name;

    private sealed class QueueOrder : IComparer<Job>
    {
        public static readonly QueueOrder Instance = new();
        public int Compare(Job? a, Job? b)
        {
            if (ReferenceEquals(a, b)) return 0;
            if (a!.Urgent != b!.Urgent) return a.Urgent ? -1 : 1;
            int byPriority = b!.Priority.CompareTo(a!.Priority);
            return byPriority != 0 ? byPriority : a.Number.CompareTo(b.Number);
        }
    }
}

/// <summary>Limits as given on one command: null means "leave as it is".</summary>
public sealed record GroupLimits
{
    public static readonly GroupLimits Unchanged = new();
    public int? MaxProcs { get; init; }
    public double? MaxCpu { get; init; }
    public double? MaxLoad { get; init; }
    public long? MinMemory { get; init; }
    public double? MaxPressure { get; init; }
    /// <summary>-B: consecutive failures that pause the group (0: never).</summary>
    public int? BreakAfter { get; init; }

    /// <summary>-x with -X: where the group's jobs run from now on (null: unchanged).</summary>
    public Executor? Executor { get; init; }
    /// <summary>-X alone: new extra executor arguments for the group's current executor.</summary>
    public IReadOnlyList<string>? ExtraArgs { get; init; }

    /// <summary>Any of the barriers that measure this machine (-c -l -M -P).</summary>
    public bool HasBarriers => MaxCpu is not null || MaxLoad is not null || MinMemory is not null || MaxPressure is not null;

    public bool IsEmpty => MaxProcs is null && !HasBarriers && BreakAfter is null && Executor is null && ExtraArgs is null;
}
