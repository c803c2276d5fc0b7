using Chaqum.Scheduling;

namespace Chaqum.Plans;

/// <summary>requested (salloc runs: pending in Slurm's queue), granted (the role has its
/// node), failed (Slurm refused it), withdrawn (asked for and given up before it was
/// granted: the plan was cancelled or another role failed), released (given back).</summary>
public enum AllocationState { Requested, Granted, Failed, Withdrawn, Released }

/// <summary>
/// One role's node for one plan, when the role's group runs on Slurm: a Slurm allocation
/// of one whole node (salloc --no-shell --nodes=1 --exclusive), asked for at the submit,
/// before any step of the plan is enqueued, and given back when the plan ends. Every step
/// of the role runs inside it (<see cref="Roles.AllocationFor"/>), so one worker plays
/// the role. What asks and gives back is an <see cref="IRoleAllocator"/>; what this holds
/// is what the plan, plan show and the live journal say of it. Loop thread only.
/// </summary>
public sealed class RoleAllocation(string planId, string role, string jobName, Executor executor)
{
    public string PlanId { get; } = planId;
    public string Role { get; } = role;
    /// <summary>The allocation's Slurm job name, chaqum:TREE:plan/N:ROLE: scancel --name
    /// finds it while it is pending, and squeue shows whose it is.</summary>
    public string JobName { get; } = jobName;
    /// <summary>The role's group's executor when the plan was submitted (partition, -X).</summary>
    public Executor Executor { get; } = executor;

    public AllocationState State { get; internal set; } = AllocationState.Requested;
    /// <summary>The allocation's Slurm job id, once granted.</summary>
    public string? SlurmJobId { get; internal set; }
    /// <summary>Its node, once granted (if squeue said it).</summary>
    public string? Node { get; internal set; }
    /// <summary>Why it failed: what salloc said.</summary>
    public string? Failure { get; internal set; }
    /// <summary>Why giving it back failed, if it did (it then holds its node until Slurm
    /// ends it).</summary>
    public string? ReleaseFailure { get; internal set; }

    /// <summary>The allocator has started asking (salloc runs, or has run).</summary>
    internal bool Asked { get; set; }
    /// <summary>The plan no longer wants it: what is granted from now on is given back.</summary>
    internal bool Withdrawing { get; set; }
    /// <summary>salloc's pid while it runs, else 0.</summary>
    internal int Pid { get; set; }

    /// <summary>"allocating", "granted", "failed", "withdrawn", "released".</summary>
    public string Word => State switch
    {
        AllocationState.Requested => "allocating",
        AllocationState.Granted => "granted",
        AllocationState.Failed => "failed",
        AllocationState.Withdrawn => "withdrawn",
        _ => "released",
    };

    public override string ToString() => $"{PlanId}:{Role}";
}

/// <summary>Makes and gives back the Slurm allocations of a plan's roles
/// (Processes/Slurm/RoleAllocator.cs). Every callback runs on the loop thread, and may
/// run at once, inside the call that asked.</summary>
public interface IRoleAllocator
{
    /// <summary>The allocation's Slurm job name for the plan's role.</summary>
    string JobName(string planId, string role);

    /// <summary>Asks for one node for the role; done once the asking has ended: the
    /// allocation is then <see cref="AllocationState.Granted"/>, <see
    /// cref="AllocationState.Failed"/> or (after <see cref="Withdraw"/>) <see
    /// cref="AllocationState.Withdrawn"/>.</summary>
    void Allocate(RoleAllocation allocation, Action done);

    /// <summary>Gives up a request that is not granted yet: salloc is told to withdraw it
    /// (TERM, KILL after the grace period) and the pending job is cancelled by name; the
    /// done of <see cref="Allocate"/> follows. A request not yet asked is withdrawn at once
    /// (no done follows). A grant that comes all the same is reported as granted: give it
    /// back with <see cref="Release"/>.</summary>
    void Withdraw(RoleAllocation allocation);

    /// <summary>Gives a granted allocation back (scancel); done once that has run, the
    /// allocation then released (<see cref="RoleAllocation.ReleaseFailure"/> says if the
    /// scancel failed).</summary>
    void Release(RoleAllocation allocation, Action done);
}
