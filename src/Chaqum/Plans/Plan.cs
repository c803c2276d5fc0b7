using Chaqum.Scheduling;

namespace Chaqum.Plans;

/// <summary>running, succeeded, failed, cancelled; lost is what crash recovery records of
/// a plan the daemon was running when it was killed (no live plan is ever lost).</summary>
public enum PlanState { Running, Succeeded, Failed, Cancelled, Lost }

/// <summary>What a running plan is doing: allocating (waiting for its roles' nodes, no
/// step enqueued yet), running its steps, releasing (every step has ended; its nodes are
/// being given back). A plan without allocations is only ever running.</summary>
public enum PlanPhase { Allocating, Running, Releasing }

public static class PlanStates
{
    public static string Word(this PlanState state) => state switch
    {
        PlanState.Running => "running",
        PlanState.Succeeded => "succeeded",
        PlanState.Failed => "failed",
        PlanState.Cancelled => "cancelled",
        _ => "lost",
    };
}

/// <summary>
/// One submitted plan: the record that names it and holds its tree; its steps are
/// ordinary jobs of the scheduler (<see cref="StepNode.Job"/>), and all the plan does is
/// watch them end. It is running until every step has ended; then it has succeeded (all
/// steps exited 0), failed (<see cref="FailedStep"/> and <see cref="Reason"/> say which
/// and why) or been cancelled. A plan whose roles run on Slurm holds one node per such
/// role (<see cref="Allocations"/>): it is running from the submit, but its steps are
/// enqueued only once every role has its node, and it ends only once the nodes are given
/// back (<see cref="Phase"/>). Loop thread only.
/// </summary>
public sealed class Plan
{
    public Plan(string id, PlanNode root, IReadOnlyList<StepNode> steps)
    {
        Id = id;
        Root = root;
        Steps = steps;
        Open = steps.Count;
    }

    /// <summary>plan/N, N from the tree's job numbers (never reused).</summary>
    public string Id { get; }
    public PlanNode Root { get; }
    public IReadOnlyList<StepNode> Steps { get; }
    /// <summary>The root's name, if the document gave one.</summary>
    public string? Name => Root.Name;
    /// <summary>The job that submitted it (fd 3), or null for the operator.</summary>
    public string? Submitter { get; init; }
    public DateTimeOffset SubmittedAt { get; init; }
    public DateTimeOffset? EndedAt { get; internal set; }
    public PlanState State { get; internal set; } = PlanState.Running;
    /// <summary>Why it failed or was cancelled.</summary>
    public string? Reason { get; internal set; }
    /// <summary>The first step that did not succeed by itself (not one that was left
    /// unrun because an earlier one failed).</summary>
    public StepNode? FailedStep { get; internal set; }
    /// <summary>Steps that have not ended.</summary>
    internal int Open { get; set; }
    /// <summary>Cancelled (by plan cancel, or a stop of the daemon): ends as cancelled.</summary>
    internal string? CancelReason { get; set; }

    /// <summary>The Slurm allocation of each role whose group runs on Slurm; empty for a
    /// plan that has none (every plan of local groups).</summary>
    public IReadOnlyList<RoleAllocation> Allocations { get; internal set; } = Array.Empty<RoleAllocation>();

    /// <summary>The allocation of that role, if the plan holds one.</summary>
    public RoleAllocation? Allocation(string role)
    {
        foreach (var a in Allocations) if (a.Role == role) return a;
        return null;
    }

    public PlanPhase Phase { get; internal set; } = PlanPhase.Running;

    /// <summary>A role got no node: the plan fails with this, and runs no step.</summary>
    internal string? AllocationFailure { get; set; }

    /// <summary>The plan will not run (more) steps: cancelled, or a role got no node.</summary>
    internal bool Withdrawing => CancelReason is not null || AllocationFailure is not null;

    public bool Ended => State != PlanState.Running;

    /// <summary>A step started, ended, or was left unrun: for those who follow the plan
    /// (chaqumctl plan submit --wait).</summary>
    public event Action<StepNode, Job>? Progress;
    internal void Report(StepNode step, Job job) => Progress?.Invoke(step, job);

    private List<Action<Plan>>? _endWatchers;

    /// <summary>Calls back once when the plan ends (at once if it has).</summary>
    public void OnEnded(Action<Plan> watcher)
    {
        if (Ended) { watcher(this); return; }
        (_endWatchers ??= new()).Add(watcher);
    }

    public void RemoveEndWatcher(Action<Plan> watcher) => _endWatchers?.Remove(watcher);

    internal void NotifyEnded()
    {
        var watchers = _endWatchers;
        _endWatchers = null;
        if (watchers is null) return;
        foreach (var w in watchers) w(this);
    }

    /// <summary>From the submit to the end (or now).</summary>
    public TimeSpan Runtime(DateTimeOffset now) => (EndedAt ?? now) - SubmittedAt;

    public override string ToString() => Id;
}
