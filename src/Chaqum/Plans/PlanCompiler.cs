using Chaqum.Scheduling;

namespace Chaqum.Plans;

/// <summary>
/// Turns a parsed plan into ordinary jobs of the scheduler, all at once at the submit:
/// each execute step is one job in its role's group, waiting (as with -a) for what must
/// succeed before it. A sequence's element waits for the jobs its predecessor ends with
/// (its "exits": a step is its own exit, a sequence ends with its last element's, a
/// parallel group with all of its elements'). Where more than one job must succeed
/// first, the element waits on one join point of them (<see cref="Join"/>), so that a
/// sequence of parallel groups of 100 costs 100 + 100 dependency edges per boundary,
/// not 100 × 100. A failure then ends everything that waits on it, transitively, as not
/// run, which is the sequence rule; the scheduler already does that.
/// </summary>
internal sealed class PlanCompiler(Scheduler scheduler, Plan plan, string? submitter)
{
    /// <summary>What a node must wait for: nothing, one job, or a join of several.</summary>
    private readonly record struct Gate(Job? Job, Join? Join);

    public void Compile() => Node(plan.Root, default, new List<Job>());

    /// <summary>Enqueues the node's steps behind the gate, adding its exits to exits.</summary>
    private void Node(PlanNode node, Gate gate, List<Job> exits)
    {
        switch (node)
        {
            case StepNode step:
                exits.Add(Enqueue(step, gate));
                break;
            case GroupNode { Parallel: true } parallel:
                foreach (var child in parallel.Work) Node(child, gate, exits);
                break;
            case GroupNode sequence:
                var last = new List<Job>();
                for (int i = 0; i < sequence.Work.Count; i++)
                {
                    if (i > 0)
                    {
                        gate = GateOf(last);
                        last = new List<Job>();
                    }
                    Node(sequence.Work[i], gate, last);
                }
                exits.AddRange(last);
                break;
        }
    }

    private Gate GateOf(List<Job> jobs) => jobs.Count == 1 ? new Gate(jobs[0], null) : new Gate(null, scheduler.JoinOf(jobs));

    private Job Enqueue(StepNode step, Gate gate)
    {
        var options = step.Timeout is null && step.Retries == 0 && step.Key is null ? JobOptions.Default
            : new JobOptions { Timeout = step.Timeout, Retries = step.Retries, Key = step.Key };
        var job = scheduler.Enqueue(new EnqueueRequest(step.Script, step.Args)
        {
            GroupName = Roles.GroupFor(step.Role),
            Options = options,
            Priority = step.Priority,
            AfterJob = gate.Job,
            AfterJoin = gate.Join,
            Step = new PlanStep(plan, step),
            // The job that submitted the plan is named as the steps' parent (CHAQUM_PARENT,
            // the history), but does not hold their results: the plan does.
            FormerParent = submitter,
        });
        step.Job = job;
        return job;
    }
}
