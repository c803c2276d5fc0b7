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
    }

    /// <summary>A plan was submitted (its steps are enqueued): the live journal notes it.</summary>
    public event Action<Plan>? Submitted;
    /// <summary>A plan ended: the journal and the history record it.</summary>
    public event Action<Plan>? Ended;

    public IEnumerable<Plan> Plans => _plans.Values;

    public Plan? Find(string id) => _plans.GetValueOrDefault(id);

    /// <summary>Checks the whole document, then enqueues every step.</summary>
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
        Submitted?.Invoke(plan);
        try
        {
            new PlanCompiler(_scheduler, plan, submitter).Compile();
        }
        catch (SchedulingException e)
        {
            // Everything was checked before; should the scheduler still refuse a step, none
            // of the plan may run: what was enqueued is cancelled, and the plan ends so.
            _log.LogError("{Plan}: a step could not be enqueued ({Error}); cancelling the plan", plan.Id, e.Message);
            Watch(plan);
            Cancel(plan, $"a step could not be enqueued: {e.Message}");
            foreach (var step in steps.Where(s => s.Job is null)) StepEnded(plan, step, null);
            throw;
        }
        Watch(plan);
        return plan;
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
    /// does. The plan ends cancelled once the last step has ended.</summary>
    public void Cancel(Plan plan, string why)
    {
        _scheduler.OwnedByLoop();
        if (plan.Ended) return;
        plan.CancelReason ??= why;
        _log.LogInformation("{Plan}: cancelling ({Why})", plan.Id, why);
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
        if (plan.Open == 0) End(plan);
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
