using Chaqum.EventLoop;
using Chaqum.Native;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Plans;

/// <summary>
/// The daemon's plans: submit (parse, check, compile into jobs), find, cancel, and the
/// end of each plan when its last step ends. Plans add no scheduling of their own: the
/// steps are jobs, and what a plan does is watch them. Loop thread only.
///
/// Ended plans stay for plan show and waitplan while there are at most
/// <see cref="KeptEnded"/> of them holding at most <see cref="KeptEndedSteps"/> steps;
/// older ones are in the history (chaqumctl history --plans).
/// </summary>
public sealed class PlanBook
{
    public const int KeptEnded = 100;
    /// <summary>One plan of the largest size: an ended step holds its job (a few hundred
    /// bytes), and a daemon that ran a big plan should not keep it for long.</summary>
    public const int KeptEndedSteps = PlanParser.MaxSteps;

    private readonly Scheduler _scheduler;
    private readonly IJobNumbers _numbers;
    private readonly JobTree _tree;
    private readonly IClock _clock;
    private readonly ILogger _log;
    private readonly Dictionary<string, Plan> _plans = new(StringComparer.Ordinal);
    private readonly Queue<Plan> _ended = new();
    private int _endedSteps;

    private readonly Action<Job, int>? _signal;

    /// <param name="signal">Signals a job's processes (the runner's): a paused step is
    /// continued before it is killed, as kill does, or it would hold the SIGTERM pending.</param>
    public PlanBook(Scheduler scheduler, IJobNumbers numbers, JobTree tree, IClock clock, ILogger log, Action<Job, int>? signal = null)
    {
        _signal = signal;
        _scheduler = scheduler;
        _numbers = numbers;
        _tree = tree;
        _clock = clock;
        _log = log;
        scheduler.JobStarted += job => { if (job.Step is { } s) s.Plan.Report(s.Node, job); };
        // A plan still waiting for its nodes has no step for the stop to kill: it is
        // cancelled here (its requests withdrawn), and ends as the running ones do.
        scheduler.ShuttingDown += () =>
        {
            foreach (var plan in _plans.Values.Where(p => p.Phase == PlanPhase.Allocating && !p.Ended).ToList())
                Cancel(plan, "the daemon stopped");
        };
    }

    /// <summary>A plan was submitted (its steps are enqueued, or its roles' nodes are about
    /// to be asked for): the live journal notes it.</summary>
    public event Action<Plan>? Submitted;
    /// <summary>A role's allocation is asked for, granted, refused or withdrawn: the live
    /// journal notes it, so that crash recovery can cancel it.</summary>
    public event Action<Plan, RoleAllocation>? AllocationChanged;

    /// <summary>Makes the nodes of roles that run on Slurm; null: no plan asks for nodes
    /// (its Slurm roles' steps get an allocation each, as any job of the group).</summary>
    public IRoleAllocator? Allocator { get; init; }
    /// <summary>A plan ended: the journal and the history record it.</summary>
    public event Action<Plan>? Ended;

    public IEnumerable<Plan> Plans => _plans.Values;

    public Plan? Find(string id) => _plans.GetValueOrDefault(id);

    /// <summary>Checks the whole document, then enqueues every step; or, when roles of the
    /// plan run on Slurm, asks for their nodes and enqueues the steps once all are granted.</summary>
    /// <param name="submitter">The job that submitted it (fd 3); null for the operator.</param>
    /// <exception cref="PlanRefusedException">A fault in the document: nothing was enqueued.</exception>
    /// <exception cref="SchedulingException">The daemon is stopping.</exception>
    public Plan Submit(ReadOnlyMemory<byte> document, string? submitter)
    {
        _scheduler.OwnedByLoop();
        if (_scheduler.Stopping) throw new SchedulingException("the daemon is shutting down");
        var (root, count) = PlanParser.Parse(document, _tree);
        var steps = new List<StepNode>(count);
        Collect(root, steps);
        var plan = new Plan($"plan/{_numbers.Next()}", root, steps)
        {
            Submitter = submitter,
            SubmittedAt = _clock.WallNow,
        };
        _plans[plan.Id] = plan;
        _log.LogInformation("{Plan}: submitted by {Who}: {Steps} steps{Name}", plan.Id, submitter ?? "the operator", steps.Count,
            plan.Name is { } n ? $", '{n}'" : "");
        var onCluster = Allocator is null ? new() : Roles.OnCluster(steps, _scheduler.FindGroup);
        if (onCluster.Count > 0)
        {
            plan.Phase = PlanPhase.Allocating;
            plan.Allocations = onCluster.Select(r => new RoleAllocation(plan.Id, r.Role, Allocator!.JobName(plan.Id, r.Role), r.Executor)).ToList();
        }
        Submitted?.Invoke(plan);
        if (onCluster.Count > 0)
        {
            Allocate(plan);
            return plan;
        }
        Start(plan);
        return plan;
    }

    /// <summary>Enqueues every step (the plan is running). Should the scheduler refuse one
    /// (everything was checked before, so only a stop can), none of the plan may run: what
    /// was enqueued is cancelled, the plan ends so, and the refusal is thrown on when the
    /// submitter is there to hear it.</summary>
    private void Start(Plan plan, bool rethrow = true)
    {
        try
        {
            new PlanCompiler(_scheduler, plan, plan.Submitter).Compile();
        }
        catch (SchedulingException e)
        {
            _log.LogError("{Plan}: a step could not be enqueued ({Error}); cancelling the plan", plan.Id, e.Message);
            Watch(plan);
            Cancel(plan, $"a step could not be enqueued: {e.Message}");
            foreach (var step in plan.Steps.Where(s => s.Job is null)) StepEnded(plan, step, null);
            if (rethrow) throw;
            return;
        }
        Watch(plan);
    }

    /// <summary>Asks for every role's node; the daemon does not exit until the plan has
    /// given them back (or withdrawn the requests).</summary>
    private void Allocate(Plan plan)
    {
        _scheduler.KeepAlive();
        _log.LogInformation("{Plan}: allocating one node per role before the first step: {Roles} (Slurm job names {Name})", plan.Id,
            string.Join(", ", plan.Allocations.Select(a => $"{a.Role} on {a.Executor.Name}")), Allocator!.JobName(plan.Id, "ROLE"));
        foreach (var allocation in plan.Allocations)
        {
            // A role that failed at once (no salloc) has withdrawn the rest already.
            if (allocation.State != AllocationState.Requested || plan.Withdrawing) continue;
            AllocationChanged?.Invoke(plan, allocation);
            Allocator!.Allocate(allocation, () => Allocated(plan, allocation));
        }
        Settle(plan);
    }

    /// <summary>One role's asking has ended: granted, refused, or withdrawn.</summary>
    private void Allocated(Plan plan, RoleAllocation allocation)
    {
        AllocationChanged?.Invoke(plan, allocation);
        switch (allocation.State)
        {
            case AllocationState.Granted:
                _log.LogInformation("{Plan}: role {Role}: granted {Where}", plan.Id, allocation.Role, Where(allocation));
                break;
            case AllocationState.Failed:
                if (plan.Withdrawing)
                {
                    _log.LogInformation("{Plan}: role {Role}: no allocation ({Failure})", plan.Id, allocation.Role, allocation.Failure);
                    break;
                }
                _log.LogWarning("{Plan}: role {Role}: no node allocated: {Failure}", plan.Id, allocation.Role, allocation.Failure);
                plan.AllocationFailure = $"role {allocation.Role}: no node allocated: {allocation.Failure}";
                Withdraw(plan);
                break;
            case AllocationState.Withdrawn:
                _log.LogInformation("{Plan}: role {Role}: request withdrawn", plan.Id, allocation.Role);
                break;
        }
        Settle(plan);
    }

    private static string Where(RoleAllocation a) =>
        (a.Node is { } node ? $"node {node}, " : "") + $"Slurm job {a.SlurmJobId}";

    /// <summary>Withdraws every request of the plan that is not granted yet.</summary>
    private void Withdraw(Plan plan)
    {
        foreach (var allocation in plan.Allocations)
            if (allocation.State == AllocationState.Requested) Allocator!.Withdraw(allocation);
    }

    /// <summary>While the plan allocates: once nothing is pending any more, it either
    /// starts (every role has its node) or gives back what it got and ends.</summary>
    private void Settle(Plan plan)
    {
        if (plan.Phase != PlanPhase.Allocating || plan.Allocations.Any(a => a.State == AllocationState.Requested)) return;
        if (plan.Withdrawing)
        {
            Release(plan);
            return;
        }
        plan.Phase = PlanPhase.Running;
        _log.LogInformation("{Plan}: every role has its node ({Where}); enqueueing the steps", plan.Id,
            string.Join(", ", plan.Allocations.Select(a => $"{a.Role}: {Where(a)}")));
        Start(plan, rethrow: false);
    }

    /// <summary>Every step has ended (or none will run): the roles' nodes are given back,
    /// then the plan ends.</summary>
    private void Release(Plan plan)
    {
        plan.Phase = PlanPhase.Releasing;
        var granted = plan.Allocations.Where(a => a.State == AllocationState.Granted).ToList();
        int left = granted.Count;
        if (left == 0)
        {
            End(plan);
            return;
        }
        foreach (var allocation in granted)
            Allocator!.Release(allocation, () =>
            {
                if (allocation.ReleaseFailure is { } failure)
                    _log.LogError("{Plan}: role {Role}: cannot give back {Where}: {Failure}; it holds its node until Slurm ends it (scancel {Id})",
                        plan.Id, allocation.Role, Where(allocation), failure, allocation.SlurmJobId);
                else
                    _log.LogInformation("{Plan}: role {Role}: released {Where}", plan.Id, allocation.Role, Where(allocation));
                if (--left == 0) End(plan);
            });
    }

    private void Watch(Plan plan)
    {
        foreach (var step in plan.Steps)
            if (step.Job is { } job) job.OnFinished(j => StepEnded(plan, step, j));
    }

    private static void Collect(PlanNode node, List<StepNode> steps)
    {
        if (node is StepNode step) steps.Add(step);
        else foreach (var child in ((GroupNode)node).Work) Collect(child, steps);
    }

    /// <summary>Cancels a running plan: steps not started are cancelled, running ones
    /// get SIGTERM on their process group and SIGKILL after the grace period, as kill
    /// does. The plan ends cancelled once the last step has ended (and its roles' nodes
    /// are given back). A plan still allocating its nodes withdraws its requests and runs
    /// no step. A plan whose steps have all ended is past cancelling.</summary>
    public void Cancel(Plan plan, string why)
    {
        _scheduler.OwnedByLoop();
        if (plan.Ended || plan.Phase == PlanPhase.Releasing) return;
        plan.CancelReason ??= why;
        _log.LogInformation("{Plan}: cancelling ({Why})", plan.Id, why);
        if (plan.Phase == PlanPhase.Allocating)
        {
            Withdraw(plan);
            Settle(plan);
            return;
        }
        // Those not started first: cancelling them before the running ones end keeps a
        // freed slot from starting one of them.
        var steps = plan.Steps.Where(s => s.Job is not null).Select(s => s.Job!).Distinct()
            .OrderBy(j => j.State is JobState.Running or JobState.Starting).ToList();
        foreach (var job in steps)
        {
            if (!job.State.IsActive()) continue;
            if (job.State == JobState.Running && job.Paused) _signal?.Invoke(job, Signals.SIGCONT);
            _scheduler.Kill(job, Signals.SIGTERM, KillSource.Operator);
        }
    }

    private void StepEnded(Plan plan, StepNode step, Job? job)
    {
        plan.Open--;
        if (job is not null)
        {
            // A stop of the daemon ends its plans as cancelled, not as failures of the
            // steps it stopped (docs/plans.md, "Restarts").
            if (_scheduler.Stopping && plan.FailedStep is null) plan.CancelReason ??= "the daemon stopped";
            if (!job.Status.Succeeded && plan.FailedStep is null && plan.CancelReason is null && job.Outcome != Outcome.DependencyFailed)
            {
                plan.FailedStep = step;
                plan.Reason = $"step {job.Id} ({step.PathIn(plan.Id)}): {Failure(job)}";
            }
            plan.Report(step, job);
        }
        if (plan.Open > 0) return;
        if (plan.Allocations.Count > 0) Release(plan);
        else End(plan);
    }

    private static string Failure(Job job) => job.Outcome switch
    {
        Outcome.TimedOut => $"timed out after {job.Options.Timeout?.TotalSeconds}s ({job.Status})",
        Outcome.Killed => $"killed ({job.Status})",
        Outcome.Cancelled or Outcome.SpawnFailed => job.EndReason ?? job.Outcome.Word(),
        _ => job.Status.ToString(),
    };

    private void End(Plan plan)
    {
        plan.EndedAt = _clock.WallNow;
        if (plan.FailedStep is not null) plan.State = PlanState.Failed;
        else if (plan.AllocationFailure is { } failure)
        {
            plan.State = PlanState.Failed;
            plan.Reason = failure;
        }
        else if (plan.CancelReason is { } why)
        {
            plan.State = PlanState.Cancelled;
            plan.Reason = why;
        }
        else if (plan.Steps.All(s => s.Job?.Status.Succeeded == true)) plan.State = PlanState.Succeeded;
        else
        {
            // Nothing of its own failed, yet a step did not succeed: a key made it share a
            // job from outside the plan, and that one failed.
            plan.State = PlanState.Failed;
            var step = plan.Steps.First(s => s.Job?.Status.Succeeded != true);
            plan.FailedStep = step;
            plan.Reason = $"step {step.Job?.Id} ({step.PathIn(plan.Id)}): {step.Job?.EndReason ?? "not run"}";
        }
        var level = plan.State is PlanState.Failed ? LogLevel.Warning : LogLevel.Information;
        _log.Log(level, "{Plan}: {State} after {Runtime}{Reason}", plan.Id, plan.State.Word(),
            Scheduler.Format(plan.Runtime(_clock.WallNow)), plan.Reason is { } r ? ": " + r : "");
        Ended?.Invoke(plan);
        plan.NotifyEnded();
        Retain(plan);
        if (plan.Allocations.Count > 0) _scheduler.EndKeepAlive();
    }

    private void Retain(Plan plan)
    {
        _ended.Enqueue(plan);
        _endedSteps += plan.Steps.Count;
        while (_ended.Count > 1 && (_ended.Count > KeptEnded || _endedSteps > KeptEndedSteps))
        {
            var old = _ended.Dequeue();
            _endedSteps -= old.Steps.Count;
            _plans.Remove(old.Id);
        }
    }
}
