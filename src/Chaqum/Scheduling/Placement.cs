namespace Chaqum.Scheduling;

/// <summary>Where a job's attempt runs off this machine: the executor ("slurm:main"), the
/// node once known, and the executor's id for it (the Slurm job id, or ALLOC.STEP for a
/// step in a plan role's allocation). Display and crash recovery use it; nothing in the
/// scheduler depends on it.</summary>
public sealed record Placement(string Executor, string? Node, string? ExternalId, string? ExternalName)
{
    /// <summary>One line for logs and show: "slurm:main, node n1, Slurm job 42" (or
    /// "Slurm step 42.3").</summary>
    public string Describe() =>
        Executor + (Node is { Length: > 0 } n ? $", node {n}" : ", waiting for an allocation")
        + (ExternalId is { Length: > 0 } id ? id.Contains('.') ? $", Slurm step {id}" : $", Slurm job {id}" : "");
}
