namespace Chaqum.Plans;

/// <summary>What a job that is a plan's step knows of it: the plan and its node. The one
/// field a <see cref="Scheduling.Job"/> gains for plans (null for every other job).</summary>
public sealed class PlanStep(Plan plan, StepNode node)
{
    public Plan Plan { get; } = plan;
    public StepNode Node { get; } = node;

    /// <summary>"plan/3 > 1 > convert a.png".</summary>
    public string Path => Node.PathIn(Plan.Id);
}
