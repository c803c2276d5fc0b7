using Chaqum.Control.Messages;
using Chaqum.EventLoop;
using Chaqum.Plans;
using Chaqum.Scheduling;

namespace Chaqum.Control;

/// <summary>A plan as operators see it (plan list, plan show, the events of plan submit
/// --wait): made on the event loop, from the plan and its steps' jobs.</summary>
public static class PlanViews
{
    public static PlanSummary Summary(Plan plan, IClock clock)
    {
        int ended = 0, failed = 0;
        foreach (var step in plan.Steps)
        {
            var state = StepState(step, plan);
            if (Ended(state)) ended++;
            if (state == "failed") failed++;
        }
        return new PlanSummary
        {
            Id = plan.Id,
            Name = plan.Name,
            State = plan.State.Word(),
            Reason = plan.Reason,
            FailedStep = plan.FailedStep?.Job?.Id,
            FailedPath = plan.FailedStep?.PathIn(plan.Id),
            Submitter = plan.Submitter,
            SubmittedAt = ControlProtocol.Time(plan.SubmittedAt),
            EndedAt = ControlProtocol.Time(plan.EndedAt),
            RuntimeSeconds = plan.Runtime(clock.WallNow).TotalSeconds,
            Steps = plan.Steps.Count,
            StepsEnded = ended,
            StepsFailed = failed,
            Allocations = plan.Allocations.Count == 0 ? [] : plan.Allocations
                .Select(a => new PlanAllocationInfo(a.Role, a.Word, a.SlurmJobId, a.Node, a.Failure ?? a.ReleaseFailure)).ToList(),
        };
    }

    /// <summary>The plan and every node of its tree, in document order.</summary>
    public static PlanView Of(Plan plan, IClock clock)
    {
        var nodes = new List<PlanNodeView>();
        Add(plan, plan.Root, 0, nodes, clock.WallNow);
        return new PlanView(Summary(plan, clock)) { Nodes = nodes };
    }

    /// <summary>Adds the node and its subtree; returns the node's view (its state, times).</summary>
    private static PlanNodeView Add(Plan plan, PlanNode node, int depth, List<PlanNodeView> nodes, DateTimeOffset now)
    {
        int at = nodes.Count;
        nodes.Add(null!);
        var view = new PlanNodeView { Path = node.JsonPath, Depth = depth, Type = node.Type, Name = node.Name, Label = node.Label };
        if (node is StepNode step)
        {
            var job = step.Job;
            var started = job?.StartedAt;
            DateTimeOffset? ended = job is { State: JobState.Done } ? job.EndedAt : null;
            view = view with
            {
                Role = step.Role,
                State = StepState(step, plan),
                Job = job?.Id,
                Status = job is { } j && j.State.IsFinished() ? j.Status.Wire : null,
                Reason = job is { } r && r.State.IsFinished() && !r.Status.Succeeded ? r.EndReason : null,
                StartedAt = ControlProtocol.Time(started),
                EndedAt = ControlProtocol.Time(ended),
                RuntimeSeconds = job is null ? null : job.State switch
                {
                    JobState.Running => (now - (job.StartedAt ?? now)).TotalSeconds,
                    JobState.Done or JobState.Retrying => job.LastRuntime.TotalSeconds,
                    _ => null,
                },
            };
        }
        else
        {
            var group = (GroupNode)node;
            var children = group.Work.Select(c => Add(plan, c, depth + 1, nodes, now)).ToList();
            var starts = children.Where(c => c.StartedAt is not null).Select(c => c.StartedAt!).ToList();
            string state = GroupState(children.Select(c => c.State).ToList());
            DateTimeOffset? first = starts.Count > 0 ? starts.Select(Parse).Min() : null;
            DateTimeOffset? last = Ended(state)
                ? children.Where(c => c.EndedAt is not null).Select(c => (DateTimeOffset?)Parse(c.EndedAt!)).DefaultIfEmpty(null).Max()
                : null;
            view = view with
            {
                State = state,
                StartedAt = ControlProtocol.Time(first),
                EndedAt = ControlProtocol.Time(last),
                RuntimeSeconds = first is { } f ? ((last ?? now) - f).TotalSeconds : null,
            };
        }
        nodes[at] = view;
        return view;
    }

    private static DateTimeOffset Parse(string time) =>
        DateTimeOffset.ParseExact(time, ControlProtocol.TimeFormat, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A step: waiting while its plan allocates its roles' nodes (it has no job
    /// yet); its job's state word while it lives; once ended succeeded, failed, not run
    /// (an earlier step failed, or the plan got no nodes) or cancelled (before it started).</summary>
    public static string StepState(StepNode step, Plan plan)
    {
        if (step.Job is not { } job) return plan.Phase == PlanPhase.Allocating && !plan.Ended ? "waiting" : "not run";
        if (job.State.IsActive()) return JobView.State(job);
        if (job.Status.Succeeded) return "succeeded";
        return job.Outcome switch
        {
            Outcome.DependencyFailed => "not run",
            Outcome.Cancelled => "cancelled",
            _ => "failed",
        };
    }

    /// <summary>The words of a node that has ended.</summary>
    public static bool Ended(string state) => state is "succeeded" or "failed" or "not run" or "cancelled";

    /// <summary>A group: succeeded when all succeeded; failed, cancelled or not run once
    /// all have ended; running once anything started; waiting before.</summary>
    private static string GroupState(List<string> states)
    {
        if (states.All(s => s == "succeeded")) return "succeeded";
        bool open = states.Any(s => !Ended(s));
        if (!open) return states.Contains("failed") ? "failed" : states.Contains("cancelled") ? "cancelled" : "not run";
        bool moved = states.Any(s => s is not ("pending" or "scheduled" or "held" or "queued" or "waiting"));
        return moved ? "running" : "waiting";
    }
}
