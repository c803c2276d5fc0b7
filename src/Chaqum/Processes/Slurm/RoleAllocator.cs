using System.Text.RegularExpressions;
using Chaqum.EventLoop;
using Chaqum.Native;
using Chaqum.Plans;
using Microsoft.Extensions.Logging;

namespace Chaqum.Processes.Slurm;

/// <summary>
/// The Slurm side of a plan's roles: one allocation per role whose group runs on Slurm,
/// `salloc --no-shell --nodes=1 --exclusive --job-name chaqum:TREE:plan/N:ROLE
/// [--partition P] [the group's -X args]`, so that exactly one node plays the role;
/// the role's steps then run in it as steps of their own (SlurmExecutor.Launch, `srun
/// --jobid=ID --overlap`). salloc runs as any helper program does (HelperProgram: not
/// blocking the loop, without the daemon's SLURM_* variables but SLURM_CONF); with
/// --no-shell it exits as soon as the allocation is granted ("salloc: Granted job
/// allocation N" on stderr) and leaves it allocated, until `scancel ID` gives it back.
///
/// A request that is pending in Slurm's queue is withdrawn by telling salloc (TERM: it
/// revokes the pending job itself and exits), and by name (`scancel --me --name`), in
/// case the request was still on its way; a salloc that outlives the grace period gets
/// KILL and the name is cancelled again.
/// </summary>
public sealed partial class RoleAllocator : IRoleAllocator
{
    private readonly EpollLoop _loop;
    private readonly Spawner _spawner;
    private readonly Reaper _reaper;
    private readonly string _tree;
    private readonly ILogger _log;

    public RoleAllocator(EpollLoop loop, Spawner spawner, Reaper reaper, string tree, ILogger log)
    {
        _loop = loop;
        _spawner = spawner;
        _reaper = reaper;
        _tree = tree;
        _log = log;
    }

    /// <summary>How long a withdrawn salloc has to end after TERM (the daemon's --grace).</summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromSeconds(10);

    public string JobName(string planId, string role) => SlurmExecutor.JobNameOf(_tree, $"{planId}:{role}");

    [GeneratedRegex(@"Granted job allocation (\d+)")]
    private static partial Regex GrantedLine();

    public void Allocate(RoleAllocation allocation, Action done)
    {
        var args = new List<string> { "--no-shell", "--nodes=1", "--exclusive", "--job-name", allocation.JobName };
        if (allocation.Executor.Partition is { } partition) args.AddRange(new[] { "--partition", partition });
        args.AddRange(allocation.Executor.ExtraArgs);
        allocation.Asked = true;
        int pid = HelperProgram.Run(_loop, _spawner, _reaper, "salloc", args.ToArray(), (failure, output) =>
        {
            allocation.Pid = 0;
            var granted = GrantedLine().Match(output);
            if (failure is null)
            {
                // Granted: where, and (should salloc not have said, -X --quiet) which job.
                Locate(allocation, granted.Success ? granted.Groups[1].Value : null, done);
                return;
            }
            if (allocation.Withdrawing)
            {
                allocation.State = AllocationState.Withdrawn;
                done();
                return;
            }
            allocation.State = AllocationState.Failed;
            allocation.Failure = Refusal(output, failure);
            _log.LogDebug("{Allocation}: {Failure}", allocation, failure);
            done();
        });
        if (pid > 0) allocation.Pid = pid;
    }

    /// <summary>What salloc said against the request: its error lines, else all it said,
    /// else how it ended.</summary>
    private static string Refusal(string output, string failure)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = lines.Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).ToList();
        if (errors.Count > 0) return string.Join(" / ", errors);
        return lines.Length > 0 ? string.Join(" / ", lines) : failure;
    }

    /// <summary>After a grant: squeue for the node (and the id, if salloc did not print
    /// it). A squeue that fails leaves the node unknown; an id nobody knows is a failure,
    /// and whatever carries the name is cancelled.</summary>
    private void Locate(RoleAllocation allocation, string? id, Action done)
    {
        string[] args = id is not null
            ? new[] { "--noheader", $"--jobs={id}", "--format=%i %N" }
            : new[] { "--noheader", "--me", $"--name={allocation.JobName}", "--format=%i %N" };
        HelperProgram.Run(_loop, _spawner, _reaper, "squeue", args, (failure, output) =>
        {
            var words = failure is null ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).FirstOrDefault(w => w.Length >= 1) : null;
            if (failure is not null) _log.LogDebug("{Allocation}: {Failure}", allocation, failure);
            id ??= words?[0];
            if (id is null)
            {
                allocation.State = AllocationState.Failed;
                allocation.Failure = "salloc said it granted an allocation, but neither it nor squeue said which; cancelled by name";
                CancelByName(allocation);
                done();
                return;
            }
            allocation.SlurmJobId = id;
            if (words is { Length: >= 2 } && words[0] == id) allocation.Node = words[1];
            allocation.State = AllocationState.Granted;
            done();
        });
    }

    public void Withdraw(RoleAllocation allocation)
    {
        if (allocation.State != AllocationState.Requested || allocation.Withdrawing) return;
        allocation.Withdrawing = true;
        if (!allocation.Asked)
        {
            allocation.State = AllocationState.Withdrawn;
            return;
        }
        // salloc has ended with a grant and squeue is looking for its node: nothing is
        // pending; the grant is reported, and given back.
        if (allocation.Pid == 0) return;
        int pid = allocation.Pid;
        if (!Signals.Process(pid, Signals.SIGTERM))
            _log.LogDebug("{Allocation}: SIGTERM to salloc (pid {Pid}): {Error}", allocation, pid, Errno.Text(Errno.Last));
        CancelByName(allocation);
        _loop.After(Grace, () =>
        {
            if (allocation.Pid != pid) return;
            _log.LogWarning("{Allocation}: salloc (pid {Pid}) still running {Grace}s after SIGTERM; sending SIGKILL and cancelling {Name} again",
                allocation, pid, Grace.TotalSeconds, allocation.JobName);
            Signals.Process(pid, Signals.SIGKILL);
            CancelByName(allocation);
        });
    }

    private void CancelByName(RoleAllocation allocation) =>
        HelperProgram.Run(_loop, _spawner, _reaper, "scancel", new[] { "--me", $"--name={allocation.JobName}" }, (failure, _) =>
        {
            if (failure is not null) _log.LogWarning("{Allocation}: {Failure}", allocation, failure);
        });

    /// <summary>scancel's words for a job that has ended or is ending.</summary>
    private static bool Ended(string failure) =>
        failure.Contains("already completing or completed", StringComparison.OrdinalIgnoreCase)
        || failure.Contains("Invalid job id specified", StringComparison.OrdinalIgnoreCase);

    public void Release(RoleAllocation allocation, Action done)
    {
        if (allocation.State != AllocationState.Granted || allocation.SlurmJobId is not { } id)
        {
            done();
            return;
        }
        HelperProgram.Run(_loop, _spawner, _reaper, "scancel", new[] { id }, (failure, _) =>
        {
            allocation.State = AllocationState.Released;
            // Gone already (a withdrawal's cancel by name met the grant, a time limit, an
            // operator's scancel): nothing is held, which is what giving back is for.
            allocation.ReleaseFailure = failure is not null && !Ended(failure) ? failure : null;
            done();
        });
    }
}
