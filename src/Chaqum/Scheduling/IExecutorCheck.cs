namespace Chaqum.Scheduling;

/// <summary>Whether jobs can be sent to an executor at all (Slurm installed, its
/// controller up, the partition there), asked when a group is moved to it. Answers later,
/// on the loop thread: done(null) when it can, else done(the reason).</summary>
public interface IExecutorCheck
{
    void Check(Executor executor, Action<string?> done);

    /// <summary>At once, before Check: a reason to refuse the executor's extra
    /// arguments (-X), or null when they are acceptable.</summary>
    string? RefuseArguments(Executor executor) => null;
}
