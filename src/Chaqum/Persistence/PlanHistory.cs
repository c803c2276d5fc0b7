using Chaqum.History;
using Chaqum.Plans;

namespace Chaqum.Persistence;

/// <summary>What the history keeps of a plan that has ended.</summary>
public static class PlanHistory
{
    public static PlanRecord Record(Plan plan) => new()
    {
        Id = plan.Id,
        Name = plan.Name,
        Outcome = plan.State.Word(),
        Submitter = plan.Submitter,
        SubmittedAt = plan.SubmittedAt,
        EndedAt = plan.EndedAt,
        RuntimeSeconds = plan.EndedAt is { } end ? (end - plan.SubmittedAt).TotalSeconds : null,
        Steps = plan.Steps.Count,
        StepsEnded = plan.Steps.Count - plan.Open,
        FailedStep = plan.FailedStep?.Job?.Id,
        FailedPath = plan.FailedStep?.PathIn(plan.Id),
        Reason = plan.Reason,
    };
}
