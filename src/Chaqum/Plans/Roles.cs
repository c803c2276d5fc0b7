using Chaqum.Scheduling;

namespace Chaqum.Plans;

/// <summary>
/// Where a plan's role runs: this is the one place that knows it. A role is the chaqum
/// group of the same name, so `group -m 2 convert` (from init, or chaqumctl) caps a
/// plan's convert steps together with every other job of that group; no role is the
/// ungrouped jobs. When that group runs on Slurm (group -x slurm), the role is also one
/// node: the plan holds one allocation per such role (<see cref="RoleAllocation"/>), made
/// before its first step, and each step of the role runs inside it.
/// </summary>
public static class Roles
{
    /// <summary>The group a step of this role joins; null for the ungrouped jobs.</summary>
    public static string? GroupFor(string? role) => string.IsNullOrEmpty(role) ? null : role;

    /// <summary>Why a role name cannot be used, or null when it can.</summary>
    public static string? Refusal(string role) =>
        role.Length == 0 ? "empty role"
        : role == Scheduler.UngroupedName ? $"role '{role}' stands for the ungrouped jobs; choose another"
        : role.Contains('\0') ? "role contains a NUL byte"
        : null;

    /// <summary>The roles of these steps that need a node of their own: those whose group
    /// exists now and runs on Slurm, each once, in the order the steps name them, with
    /// that group's executor (partition, -X). A role whose group does not exist yet is an
    /// ordinary local group, as it always was.</summary>
    public static List<(string Role, Executor Executor)> OnCluster(IEnumerable<StepNode> steps, Func<string, Group?> findGroup)
    {
        var roles = new List<(string, Executor)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            if (GroupFor(step.Role) is not { } name || !seen.Add(name)) continue;
            if (findGroup(name) is { Executor: { IsLocal: false } executor }) roles.Add((step.Role!, executor));
        }
        return roles;
    }

    /// <summary>The Slurm allocation a job runs in: for a step of a plan that holds a
    /// granted allocation for the step's role, its Slurm job id (the step is then `srun
    /// --jobid=ID --overlap`); null for every other job (it gets an allocation of its own).</summary>
    public static string? AllocationFor(Job job) =>
        job.Step is { Node.Role: { } role } step && step.Plan.Allocation(role) is { State: AllocationState.Granted, SlurmJobId: { } id }
            ? id : null;
}
