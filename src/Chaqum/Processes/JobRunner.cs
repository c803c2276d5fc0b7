using System.Globalization;
using Chaqum.Logging;
using Chaqum.Native;
using Chaqum.Protocol;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Processes;

/// <summary>
/// The process side of a job: spawns it with its pipes wired to output readers and a
/// protocol connection, tracks its exit with the reaper, and signals its process group.
/// A job is finished when its process has exited: output or fd 3 still held open by a
/// stray grandchild does not keep it running (those are served until EOF, then closed).
/// Process groups that outlive their job are remembered and killed at shutdown.
/// </summary>
public sealed class JobRunner : IJobLauncher, IDisposable
{
    private readonly EventLoop.EventLoop _loop;
    private readonly Spawner _spawner;
    private readonly Reaper _reaper;
    private readonly IJobOutput _output;
    private readonly ILogger _log;
    private readonly HashSet<int> _lingering = new();
    private readonly HashSet<JobProcess> _live = new();
    private Dispatcher? _dispatcher;
    private Action<Job, JobStatus, ResourceUsage>? _onExit;

    public JobRunner(EventLoop.EventLoop loop, Spawner spawner, Reaper reaper, IJobOutput output, ILogger log)
    {
        _loop = loop;
        _spawner = spawner;
        _reaper = reaper;
        _output = output;
        _log = log;
    }

    /// <summary>Completes the wiring once the scheduler and dispatcher exist.</summary>
    public void Connect(Dispatcher dispatcher, Action<Job, JobStatus, ResourceUsage> onExit)
    {
        _dispatcher = dispatcher;
        _onExit = onExit;
    }

    /// <summary>Extra environment for the entry job only (e.g. CHAQUM_RECOVERED).</summary>
    public List<KeyValuePair<string, string>> EntryEnvironment { get; } = new();

    private sealed class JobProcess
    {
        public required Job Job { get; init; }
        public required int Pid { get; init; }
        public required OutputReader Stdout { get; init; }
        public required OutputReader Stderr { get; init; }
        public required JobConnection Connection { get; init; }
    }

    public LaunchResult Launch(Job job)
    {
        var env = new List<KeyValuePair<string, string>>(6)
        {
            new("CHAQUM_IDENT", job.Id),
            new("CHAQUM_ATTEMPT", job.Attempt.ToString(CultureInfo.InvariantCulture)),
        };
        if (job.Parent is { } parent) env.Add(new("CHAQUM_PARENT", parent.Id));
        if (!job.Group.IsDefault) env.Add(new("CHAQUM_GROUP", job.Group.Name));
        if (job.Slot >= 0) env.Add(new("CHAQUM_SLOT", job.Slot.ToString(CultureInfo.InvariantCulture)));
        if (job.IsEntry) env.AddRange(EntryEnvironment);

        // Leave descriptors for the daemon itself (see Descriptors): short of them, the job
        // waits and is retried, as on EMFILE. Each live job may still open its output file.
        long limit = Descriptors.Limit;
        int reserve = (int)Math.Min(128, limit / 8) + _live.Count;
        if (Descriptors.Short(needed: 8, reserve, limit))
            return LaunchResult.Failed($"too few file descriptors left (limit {limit}, " +
                $"{reserve} kept for the daemon and its jobs' output files) ({job.Script.Relative})", transient: true);
        // Likewise tasks: the runtime aborts when it cannot start a thread.
        if (TaskHeadroom.Short(reserve: 32) is { } tasks)
            return LaunchResult.Failed($"{tasks} ({job.Script.Relative})", transient: true);

        int pid = _spawner.Start(job.Script, job.Args, env, out var pipes, out int errno, out string? refused);
        if (pid == 0)
        {
            if (refused is not null) return LaunchResult.Failed($"refused at spawn: {refused}", transient: false);
            bool transient = errno is Errno.EAGAIN or 12 /* ENOMEM */ or 23 /* ENFILE */ or 24 /* EMFILE */;
            return LaunchResult.Failed($"{Errno.Text(errno)} ({job.Script.Relative})", transient);
        }

        var process = new JobProcess
        {
            Job = job,
            Pid = pid,
            Stdout = new OutputReader(_loop, job, OutputStream.Stdout, pipes.Stdout, _output),
            Stderr = new OutputReader(_loop, job, OutputStream.Stderr, pipes.Stderr, _output),
            Connection = new JobConnection(_loop, job, pipes.Commands, pipes.Replies, _dispatcher!, _log),
        };
        job.Process = process;
        _live.Add(process);
        _reaper.Track(pid, (status, usage) => Exited(process, status, usage));
        return LaunchResult.Started(pid);
    }

    private void Exited(JobProcess process, int status, Wait.RUsage usage)
    {
        // Log what it printed and run what it asked for before saying it ended.
        process.Stdout.Drain();
        process.Stderr.Drain();
        process.Connection.JobExited();
        _live.Remove(process);

        var jobStatus = Wait.Exited(status) ? JobStatus.Exited(Wait.ExitCode(status)) : JobStatus.Killed(Wait.TermSignal(status));
        var resources = new ResourceUsage(usage.UserTime.ToTimeSpan(), usage.SystemTime.ToTimeSpan(), usage.MaxRssKilobytes * 1024);
        if (Signals.GroupExists(process.Pid))
        {
            _lingering.Add(process.Pid);
            _log.LogDebug("{Job}: process group {Pgid} outlives the job", process.Job.Id, process.Pid);
        }
        _onExit!(process.Job, jobStatus, resources);
    }

    public void Signal(Job job, int signal)
    {
        if (job.Pid <= 0) return;
        if (!Signals.KillGroup(job.Pid, signal))
            _log.LogDebug("{Job}: {Signal} to process group {Pgid}: {Error}", job.Id, Signals.Name(signal), job.Pid, Errno.Text(Errno.Last));
    }

    /// <summary>Signals the groups of jobs that have ended but left processes behind.
    /// Returns how many such groups still exist.</summary>
    public int SignalLingering(int signal)
    {
        _lingering.RemoveWhere(pgid => !Signals.GroupExists(pgid));
        foreach (int pgid in _lingering)
        {
            _log.LogInformation("sending {Signal} to left-over process group {Pgid}", Signals.Name(signal), pgid);
            Signals.KillGroup(pgid, signal);
        }
        return _lingering.Count;
    }

    public int LingeringCount
    {
        get
        {
            _lingering.RemoveWhere(pgid => !Signals.GroupExists(pgid));
            return _lingering.Count;
        }
    }

    /// <summary>At exit: closes every pipe still open.</summary>
    public void CloseAll()
    {
        foreach (var p in _live.ToList())
        {
            p.Stdout.Shutdown();
            p.Stderr.Shutdown();
            p.Connection.Close();
        }
        _live.Clear();
    }

    public void Dispose() => _spawner.Dispose();
}
