using Chaqum.EventLoop;
using Chaqum.Native;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Mono.Unix.Native;

namespace Chaqum.Processes.Slurm;

/// <summary>
/// Runs a job of a Slurm group (group -x slurm[:PARTITION]) on the cluster. The job is a
/// local process, `srun -u --job-name chaqum:TREE:ID [--partition P] -N1 -n1 [group -X
/// args] -- SHIM SCRIPT ARG...`, spawned in its own process group with three pipes:
/// replies down its stdin, the shim's frames up its stdout (<see cref="ShimStream"/>),
/// srun's own messages and the job's stderr on its stderr. srun carries them over
/// Slurm's authenticated I/O forwarding: no listener, no secret.
///
/// Signals never go to srun once the job runs: a KILLed srun would leave the step
/// running on its node. They go through `scancel --signal` to every process of the
/// step (Slurm's proctrack knows them all, on every node); before the shim has said
/// which Slurm job it is (the allocation is pending), the job is cancelled by name.
///
/// A step of a plan whose role holds a node (<see cref="RoleAllocator"/>) is a step of
/// that allocation instead: `srun --jobid=ALLOC --overlap -u --job-name chaqum:TREE:ID
/// -N1 -n1 -- SHIM ...`, without the partition and -X (the allocation has them), and
/// with --overlap so that the role's parallel steps share its node (the group's -m caps
/// how many). Its signals go to its own step only, `scancel --signal=SIG ALLOC.STEP`:
/// the allocation's id would reach every step of the role.
/// </summary>
public sealed class SlurmExecutor : IExecutorCheck
{
    public const string JobNamePrefix = "chaqum:";

    private readonly EpollLoop _loop;
    private readonly Spawner _spawner;
    private readonly Reaper _reaper;
    private readonly ILogger _log;
    private readonly string _tree;

    public SlurmExecutor(EpollLoop loop, Spawner spawner, Reaper reaper, string tree, ILogger log)
    {
        _loop = loop;
        _spawner = spawner;
        _reaper = reaper;
        _tree = tree;
        _log = log;
        Allocator = new RoleAllocator(loop, spawner, reaper, tree, log);
    }

    /// <summary>Makes the nodes of plans' roles that run on Slurm.</summary>
    public RoleAllocator Allocator { get; }

    /// <summary>The shim the nodes run: $CHAQUM_SLURM_SHIM, else shim/chaqum-shim next to
    /// the daemon (install.sh puts it there). Nodes need it at the same path.</summary>
    public static string ShimPath =>
        Environment.GetEnvironmentVariable("CHAQUM_SLURM_SHIM") is { Length: > 0 } shim ? shim
        : Path.Combine(AppContext.BaseDirectory, "shim", "chaqum-shim");

    /// <summary>The Slurm job name of a chaqum job: unique per tree and job id (ids are
    /// never reused), so that scancel --name finds it even before its id is known, and
    /// squeue shows whose it is.</summary>
    public string JobName(Job job) => JobNameOf(_tree, job.Id);

    public static string JobNameOf(string tree, string id) => $"{JobNamePrefix}{tree}:{id}";

    /// <summary>Checks that the group's jobs can go to Slurm at all: srun and the shim
    /// exist, sinfo answers (slurmctld is up), and the partition exists (or there is a
    /// default one). done(null) when they can, else done(reason naming what failed).</summary>
    public void Check(Executor executor, Action<string?> done)
    {
        if (HelperProgram.Find("srun") is null)
        {
            done("cannot use Slurm: srun not found in PATH (is Slurm installed? apt-get install slurm-client)");
            return;
        }
        if (Syscall.access(ShimPath, AccessModes.X_OK) != 0)
        {
            done($"cannot use Slurm: the shim {ShimPath} is missing or not executable (set CHAQUM_SLURM_SHIM, or reinstall chaqum)");
            return;
        }
        HelperProgram.Run(_loop, _spawner, _reaper, "sinfo", new[] { "--noheader", "--format=%P" }, (failure, output) =>
        {
            if (failure is not null) { done($"cannot use Slurm: {failure}"); return; }
            var partitions = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            bool found = executor.Partition is { } wanted
                ? partitions.Any(p => p.TrimEnd('*') == wanted)
                : partitions.Any(p => p.EndsWith('*'));
            if (found) { done(null); return; }
            string listed = partitions.Length == 0 ? "none" : string.Join(", ", partitions);
            done(executor.Partition is { } p
                ? $"cannot use Slurm: no partition '{p}' (sinfo lists: {listed})"
                : $"cannot use Slurm: no default partition (sinfo lists: {listed}); name one with -x slurm:PARTITION");
        });
    }

    /// <summary>srun options that -X may not give, each with why: they would break the
    /// tunnel (one task writing frames to srun's own stdout, stdin forwarded to it), or
    /// take from the daemon what it relies on (the job name scancel finds it by, the
    /// partition -x names). srun lets a later option override an earlier one, so these
    /// cannot simply be put first.</summary>
    private static readonly (string Long, char Short, string Why)[] ReservedOptions =
    {
        ("output", 'o', "the job's stdout carries the shim's frames to the daemon"),
        ("input", 'i', "the job's stdin carries the daemon's replies"),
        ("label", 'l', "a label would break the shim's frames"),
        ("pty", '\0', "the shim's frames need srun's stdout as it is"),
        ("ntasks", 'n', "a job is one task; an MPI job starts its own srun inside"),
        ("nodes", 'N', "a job is one task on one node"),
        ("multi-prog", '\0', "a job is one task"),
        ("job-name", 'J', "scancel finds a pending job by the name chaqum gives it"),
        ("partition", 'p', "the partition is -x slurm:PARTITION"),
        ("jobid", '\0', "each job is an allocation of its own, or a step of its plan role's"),
    };

    public string? RefuseArguments(Executor executor)
    {
        foreach (var arg in executor.ExtraArgs)
        {
            if (!arg.StartsWith('-') || arg == "-") continue;
            foreach (var (name, letter, why) in ReservedOptions)
            {
                bool isLong = arg.StartsWith("--", StringComparison.Ordinal)
                    && (arg[2..] == name || arg[2..].StartsWith(name + "=", StringComparison.Ordinal));
                bool isShort = letter != '\0' && !arg.StartsWith("--", StringComparison.Ordinal) && arg.Length >= 2 && arg[1] == letter;
                if (isLong || isShort) return $"-X: srun's {arg} is chaqum's to set ({why})";
            }
        }
        return null;
    }

    /// <summary>The daemon's ends of a Slurm job's pipes, as JobRunner wires a local job's.</summary>
    public sealed record Launched(int Pid, Spawner.JobPipes Pipes, SlurmRun Run);

    /// <summary>Spawns srun for the job's current attempt. Null with errno (or a refusal)
    /// set when it cannot be started.</summary>
    public Launched? Launch(Job job, IReadOnlyList<KeyValuePair<string, string>> environment, out int errno, out string? refused)
    {
        errno = 0;
        refused = _spawner.Check(job.Script);
        if (refused is not null) return null;
        if (HelperProgram.Find("srun") is not { } srun)
        {
            refused = "srun not found in PATH";
            return null;
        }
        var executor = job.Group.Executor;
        var allocation = Plans.Roles.AllocationFor(job);
        var args = new List<string>();
        if (allocation is not null) args.AddRange(new[] { $"--jobid={allocation}", "--overlap" });
        args.AddRange(new[] { "--unbuffered", "--job-name", JobName(job), "--nodes=1", "--ntasks=1" });
        if (allocation is null)
        {
            if (executor.Partition is { } partition) args.AddRange(new[] { "--partition", partition });
            args.AddRange(executor.ExtraArgs);
        }
        args.Add("--");
        args.Add(ShimPath);
        args.Add(job.Script.Absolute);
        args.AddRange(job.Args);

        // Each pair is (read end, write end). srun gets inR, muxW, errW; we keep the rest,
        // plus two pipes of our own that the ShimStream fills: stdout and commands.
        int inR = -1, inW = -1, muxR = -1, muxW = -1, errR = -1, errW = -1, outR = -1, outW = -1, cmdR = -1, cmdW = -1;
        try
        {
            (inR, inW) = Pipes.Create();
            (muxR, muxW) = Pipes.Create();
            (errR, errW) = Pipes.Create();
            (outR, outW) = Pipes.Create(Pipes.O_NONBLOCK);
            (cmdR, cmdW) = Pipes.Create(Pipes.O_NONBLOCK);
        }
        catch (IOException e)
        {
            Close(inR, inW, muxR, muxW, errR, errW, outR, outW, cmdR, cmdW);
            errno = e.HResult;
            return null;
        }
        int pid = _spawner.StartProgram(srun, args.ToArray(), environment, inR, muxW, errW, out errno);
        Close(inR, muxW, errW);
        if (pid == 0)
        {
            Close(inW, muxR, errR, outR, outW, cmdR, cmdW);
            return null;
        }
        Pipes.SetNonBlockingFresh(inW);
        Pipes.SetNonBlockingFresh(muxR);
        Pipes.SetNonBlockingFresh(errR);
        var run = new SlurmRun(JobName(job), executor.Name, new ShimStream(_loop, muxR, outW, cmdW)) { Allocation = allocation };
        return new Launched(pid, new Spawner.JobPipes(outR, errR, cmdR, inW), run);
    }

    /// <summary>Signals every process of the job's step on its node (scancel --signal);
    /// before the job has started there, cancels it by name (a pending allocation cannot
    /// take a signal). A step in its role's allocation is signalled as ALLOC.STEP; before
    /// it has started only its srun is told (scancel --name finds jobs, not steps).
    /// Failures are logged: the escalation to KILL follows regardless.</summary>
    public void Signal(Job job, SlurmRun run, int signal)
    {
        if (signal == 0) return;
        // The job's Slurm id, or ALLOC.STEP for a step in its role's allocation; null
        // until the shim has said it.
        string? target = run.ExternalId;
        if (target is not null || run.Allocation is null)
        {
            string[] args = target is not null
                ? new[] { $"--signal={Signals.Name(signal).Replace("SIG", "")}", target }
                : new[] { "--me", $"--name={run.JobName}" };
            HelperProgram.Run(_loop, _spawner, _reaper, "scancel", args, (failure, _) =>
            {
                if (failure is not null) _log.LogWarning("{Job}: {Failure}", job.Id, failure);
            });
        }
        if (target is not null) return;
        if (run.Allocation is null)
            _log.LogInformation("{Job}: not started on the cluster yet: cancelled by name ({Name})", job.Id, run.JobName);
        else
            _log.LogInformation("{Job}: not started in Slurm job {Allocation} yet: srun told to withdraw the step", job.Id, run.Allocation);
        // srun may not have asked slurmctld yet, and then the name finds nothing: TERM
        // tells srun itself to withdraw its request (or, if the step is starting, to pass
        // the signal on). Never KILL: a killed srun cannot take its job with it.
        if (signal is Signals.SIGTERM or Signals.SIGKILL or Signals.SIGINT && !Signals.Process(job.Pid, Signals.SIGTERM))
            _log.LogDebug("{Job}: SIGTERM to srun (pid {Pid}): {Error}", job.Id, job.Pid, Native.Errno.Text(Native.Errno.Last));
    }

    /// <summary>Crash recovery: cancels what a dead daemon left on the cluster, by Slurm
    /// job id where it was known, else by name. done(failure) once scancel has run.</summary>
    public void Cancel(string? slurmJobId, string jobName, Action<string?> done) =>
        HelperProgram.Run(_loop, _spawner, _reaper, "scancel", CancelArguments(slurmJobId, jobName), (failure, _) => done(failure));

    /// <summary>scancel's arguments for a job by id (every step of it, --full), a step of
    /// an allocation by ALLOC.STEP (that step only), or a job by its name.</summary>
    private static string[] CancelArguments(string? slurmJobId, string jobName) =>
        slurmJobId is { Length: > 0 } id ? id.Contains('.') ? new[] { id } : new[] { "--full", id }
        : new[] { "--me", $"--name={jobName}" };

    /// <summary>Crash recovery runs before the event loop and the reaper exist: scancel
    /// once, waited for here. Returns null when it succeeded, else what failed.</summary>
    public static string? CancelNow(string tree, string? slurmJobId, string jobName)
    {
        if (HelperProgram.Find("scancel") is not { } scancel) return "scancel not found in PATH";
        string[] args = CancelArguments(slurmJobId, jobName);
        using var spawner = new Spawner(tree, JobEnvironment.Base(tree));
        (int read, int write) pipe = Pipes.Create();
        int pid = spawner.StartProgram(scancel, args, Array.Empty<KeyValuePair<string, string>>(), -1, pipe.write, pipe.write, out int errno);
        Syscall.close(pipe.write);
        string output;
        using (var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(pipe.read, ownsHandle: true), FileAccess.Read))
        using (var reader = new StreamReader(stream))
            output = pid == 0 ? "" : reader.ReadToEnd().Trim();
        if (pid == 0) return $"scancel: {Native.Errno.Text(errno)}";
        int status;
        while (Syscall.waitpid(pid, out status, 0) < 0 && Stdlib.GetLastError() == Mono.Unix.Native.Errno.EINTR) { }
        return Wait.Exited(status) && Wait.ExitCode(status) == 0 ? null
            : $"scancel {string.Join(' ', args)} ended with {Reaper.Describe(status)}: {output}";
    }

    /// <summary>How the job ended, from what the shim said and how srun ended: the
    /// shim's own report when there is one ("exit N", "signal N"); when the shim was
    /// killed before it could report (scancel --signal=KILL), srun's 128+N is signal N;
    /// when the shim never started (no allocation, a node that cannot run it), the job
    /// never ran.</summary>
    public static JobStatus StatusOf(SlurmRun run, int srunStatus)
    {
        if (run.Stream.Status is { } reported)
        {
            var parts = reported.Split(' ');
            if (parts.Length == 2 && int.TryParse(parts[1], out int n))
                return parts[0] == "signal" ? JobStatus.Killed(n) : JobStatus.Exited(n);
        }
        if (!run.Stream.Started) return JobStatus.NeverRan;
        if (!Wait.Exited(srunStatus)) return JobStatus.Killed(Wait.TermSignal(srunStatus));
        int code = Wait.ExitCode(srunStatus);
        return code is > 128 and < 128 + 65 ? JobStatus.Killed(code - 128) : JobStatus.Exited(code);
    }

    private static void Close(params int[] fds)
    {
        foreach (int fd in fds) if (fd >= 0) Syscall.close(fd);
    }
}

/// <summary>One attempt of a job on the cluster: its name, the allocation it runs in
/// (a plan role's, or null for one of its own), and once the shim has reported, its
/// Slurm job id, node and step id.</summary>
public sealed class SlurmRun(string jobName, string executor, ShimStream stream)
{
    public string JobName { get; } = jobName;
    public string Executor { get; } = executor;
    public ShimStream Stream { get; } = stream;
    /// <summary>The role's allocation it is a step of; null when it is a job of its own.</summary>
    public string? Allocation { get; init; }
    public string? SlurmJobId { get; set; }
    public string? Node { get; set; }
    public string? StepId { get; set; }

    /// <summary>What names it to Slurm (and in ps, show, the history, the journal): its
    /// Slurm job id, or ALLOC.STEP for a step in a role's allocation.</summary>
    public string? ExternalId => SlurmJobId is { } id && Allocation is not null && StepId is { } step ? $"{id}.{step}" : SlurmJobId;
}
