using Chaqum.Logging;
using Chaqum.Messaging;
using Chaqum.Native;
using Chaqum.Processes;
using Chaqum.Protocol;
using Chaqum.Protocol.Commands;
using Chaqum.Scheduling;
using Chaqum.Scheduling.Barriers;
using Chaqum.Control;
using Chaqum.Control.Requests;
using Chaqum.History;
using Chaqum.Service;
using Chaqum.Persistence;
using Microsoft.Extensions.Logging;

namespace Chaqum;

/// <summary>What the command line says.</summary>
public sealed record DaemonOptions
{
    public required string TreePath { get; init; }
    public string Entry { get; init; } = "init";
    public string[] Arguments { get; init; } = Array.Empty<string>();
    public int Verbosity { get; init; }
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(10);
    public string? LogFile { get; init; }
    public string? StateDir { get; init; }
    public string? ControlSocket { get; init; }
    public int HistoryDays { get; init; } = 30;
    public long OutputCapPerJob { get; init; } = 1 << 20;
    public long OutputTotalCap { get; init; } = 1L << 30;
    public string? User { get; init; }
    /// <summary>--no-resume: the jobs the last run kept are recorded dropped, not run.</summary>
    public bool NoResume { get; init; }
    /// <summary>--web ADDR: start chaqum-web for this tree as a supervised child.</summary>
    public string? Web { get; init; }
    /// <summary>--web-token-file FILE: its --token-file.</summary>
    public string? WebTokenFile { get; init; }
}

/// <summary>
/// One daemon for one job tree: wires the event loop, scheduler, process supervision and
/// protocol together, runs the loop on its own thread, and exits when nothing is left to
/// do (or after an orderly stop).
/// </summary>
public sealed class Daemon : IDisposable
{
    private readonly DaemonOptions _options;
    private readonly ILogger _log;
    private readonly EventLoop.EpollLoop _loop;
    private readonly JobTree _tree;
    private readonly ScriptPath _entryScript;
    private readonly Reaper _reaper;
    private readonly JobRunner _runner;
    private readonly Dispatcher _dispatcher;
    private readonly ProcLoadSource _load;
    private readonly Triggers.InotifyWatches _watches;
    private readonly JobNumberFile _jobNumbers;
    private readonly ControlServer _control;
    private readonly WebChild? _web;
    private readonly HistoryWriter? _historyWriter;
    private readonly LiveJournal? _journal;
    private readonly JobOutputFiles? _outputFiles;
    private readonly InstanceLock? _lock;
    private readonly SystemdNotifier _notifier;
    private readonly ServiceStatus _status;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Recovery.Result _last = Recovery.Result.Nothing;
    private Thread? _thread;
    private int _stopSignals;

    public Daemon(DaemonOptions options, JobTree tree, ScriptPath entry, ILoggerFactory loggers, IJobOutput output)
    {
        _options = options;
        _tree = tree;
        _entryScript = entry;
        _log = loggers.CreateLogger("chaqum");
        _loop = new EventLoop.EpollLoop(_log, EventLoop.SystemClock.Instance);

        string? stateDir = null;
        try
        {
            stateDir = StateDirectory.Resolve(options.StateDir, tree.Root);
            StateDirectory.Ensure(stateDir);
            // One daemon per tree: taken before anything in the state dir is touched.
            _lock = InstanceLock.Take(stateDir, tree.Root);
            if (_lock.PidNotWritten is { } why)
                _log.LogWarning("cannot write the pid into {Lock} ({Error}): kill -HUP $(cat {Lock}) will not find this daemon, pid {Pid}",
                    _lock.Path, why, _lock.Path, Environment.ProcessId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogError("state directory {Dir} unusable ({Error}); job ids may repeat after a restart", stateDir, e.Message);
            stateDir = null;
        }
        StateDir = stateDir;

        // Orphans of jobs (double forks) become our children: reaped by us, and killed
        // with the rest at shutdown instead of living on unnoticed.
        if (Prctl.BecomeSubreaper() is { } subreaperError)
            _log.LogWarning("cannot become a child subreaper ({Error}); double-forked job processes escape us", subreaperError);

        if (stateDir is not null)
        {
            try { _last = Recovery.Run(stateDir, tree.Root, options.Grace, _log, resume: !options.NoResume); }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
            {
                _log.LogError("crash recovery failed: {Error}; leftovers of an earlier run may still be running", e.Message);
            }
        }

        var retention = TimeSpan.FromDays(options.HistoryDays);
        if (stateDir is not null)
        {
            try
            {
                _outputFiles = new JobOutputFiles(stateDir, options.OutputCapPerJob, options.OutputTotalCap, retention, _loop, _log);
                _outputFiles.Prune();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.LogError("job output files unusable ({Error}); chaqumctl log will have nothing", e.Message);
            }
            _historyWriter = new HistoryWriter(stateDir, retention, _log);
        }

        SocketPath = ControlPaths.Socket(options.ControlSocket, tree.Root);
        _reaper = new Reaper(_loop, _log);
        var cgroups = JobCgroups.Create(_log);
        // Jobs talk to the scheduler, which starts jobs: the runner is built first, and what
        // it hands a started job's pipes and exit to (the dispatcher and the scheduler, built
        // below) is reached only once the loop runs and a job starts.
        _runner = new JobRunner(_loop, new Spawner(tree.Root, JobEnvironment.Base(tree.Root, SocketPath)), _reaper,
            _outputFiles is null ? output : new JobOutputs(output, _outputFiles),
            connect: Connect, onExit: JobExited, _log, cgroups, tree.Root);
        if (_last.Lost > 0) _runner.EntryEnvironment.Add(new("CHAQUM_RECOVERED", _last.Lost.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        _load = new ProcLoadSource();
        var changeFiles = new Triggers.ChangeFiles(stateDir, _log);
        changeFiles.Clean();
        _watches = new Triggers.InotifyWatches(_loop, changeFiles, _log);
        _jobNumbers = new JobNumberFile(stateDir, _log);
        Scheduler = new Scheduler(new SchedulerSettings { Grace = options.Grace }, _loop.Clock, _loop, _load, _runner,
            _jobNumbers, _log, _watches);
        var history = _historyWriter is null ? null : new JobHistory(Scheduler, _historyWriter, stateDir!);
        if (stateDir is not null)
        {
            var scheduler = Scheduler;
            var writer = _historyWriter;
            _journal = new LiveJournal(stateDir, () => scheduler.Jobs.Where(j => j.State.IsActive()), _log,
                _runner.Identity, () => writer?.WrittenRuns ?? long.MaxValue, cgroups?.Root, () => scheduler.Groups.Append(scheduler.DefaultGroup));
            Scheduler.GroupChanged += _journal.GroupChanged;
            Scheduler.JobChanged += _journal.Changed;
            if (history is not null) history.Ran += _journal.Ran;
            Scheduler.JobEnqueued += _journal.Enqueued;
            Scheduler.JobStarted += _journal.Started;
            _runner.Placed += _journal.Placed;
            Scheduler.JobFinished += _journal.Finished;
        }
        _runner.Slurm.Allocator.Grace = options.Grace;
        Plans = new Plans.PlanBook(Scheduler, _jobNumbers, tree, _loop.Clock, _log, _runner.Signal) { Allocator = _runner.Slurm.Allocator };
        if (_journal is not null)
        {
            var plans = Plans;
            _journal.LivePlans = () => plans.Plans.Where(p => !p.Ended);
            Plans.Submitted += _journal.PlanSubmitted;
            Plans.AllocationChanged += _journal.AllocationChanged;
            Plans.Ended += _journal.PlanEnded;
        }
        if (_historyWriter is { } historyWriter) Plans.Ended += plan => historyWriter.PlanEnded(PlanHistory.Record(plan));
        PostOffice = new PostOffice(_log);
        var services = new CommandServices(Scheduler, PostOffice, tree, _loop, _log) { Plans = Plans, Executors = _runner.Slurm };
        _dispatcher = new Dispatcher(new ICommand[]
        {
            new EnqueueCommand(services),
            new RepeatCommand(services),
            new UnrepeatCommand(services),
            new GroupCommand(services),
            new WaitCommand(services),
            new WaitCommand(services, "waitjobs"),
            new KillJobsCommand(services),
            new SendMsgCommand(services),
            new WaitRecvCommand(services),
            new RecvMsgCommand(services),
            new PlanCommand(services),
            new WaitPlanCommand(services),
        }, _log);
        Scheduler.JobFinished += PostOffice.JobEnded;
        Scheduler.Idle += OnIdle;
        _notifier = SystemdNotifier.FromEnvironment();
        _status = new ServiceStatus(_notifier, Scheduler, _loop);

        var control = new ControlServices(Scheduler, _runner, tree, _outputFiles, history, _loop, _loop.Clock, _log)
        {
            StateDir = stateDir ?? "",
            SocketPath = SocketPath,
            StartedAt = DateTimeOffset.Now,
            Events = new EventFeed(Scheduler),
            Counters = new DaemonCounters(Scheduler),
            Plans = Plans,
        };
        var requests = new ControlRequests(_loop, new IControlRequest[]
        {
            new HelloRequest(control),
            new PsRequest(control),
            new ShowRequest(control),
            new LogRequest(control),
            new KillRequest(control),
            new WaitRequest(control),
            new PauseRequest(control, pause: true),
            new PauseRequest(control, pause: false),
            new ReniceRequest(control),
            new PrioRequest(control),
            new GroupsRequest(control),
            new RepeatsRequest(control),
            new RepeatActionRequest(control, RepeatAction.Unrepeat),
            new RepeatActionRequest(control, RepeatAction.Disable),
            new RepeatActionRequest(control, RepeatAction.Enable),
            new RepeatActionRequest(control, RepeatAction.Trigger),
            new EnqueueJobRequest(control),
            new SnapshotRequest(control),
            HoldRequest.Hold(control),
            HoldRequest.Release(control),
            new StatusRequest(control),
            new EventsRequest(control),
            new PlanSubmitRequest(control),
            new PlanShowRequest(control),
            new PlanCancelRequest(control),
            new PlansRequest(control),
        }, _log);
        _control = new ControlServer(SocketPath, requests, _log);
        if (options.Web is { } web)
        {
            _web = new WebChild(new WebChild.Settings(web, options.WebTokenFile is null ? null : Path.GetFullPath(options.WebTokenFile), tree.Root, SocketPath, stateDir),
                _reaper, _loop, _loop.Clock, _log);
            _runner.NotAJob = pid => pid == _web.Pid;
        }
        if (stateDir is not null) WritePointer(stateDir, SocketPath);
    }

    private JobConnection Connect(Job job, int cmdFd, int replyFd) => new(_loop, job, cmdFd, replyFd, _dispatcher, _log);

    private void JobExited(Job job, JobStatus status, ResourceUsage usage) => Scheduler.OnExited(job, status, usage);

    /// <summary>Where chaqumctl finds the control socket of this tree from its state
    /// directory, whatever the environment that chose the socket's location.</summary>
    private static void WritePointer(string stateDir, string socket)
    {
        // 0644 whatever the umask: nobody else may point chaqumctl at another socket.
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
        };
        try
        {
            using var f = new StreamWriter(Path.Combine(stateDir, "control-socket"), options);
            f.Write(socket + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    public string SocketPath { get; }

    public Scheduler Scheduler { get; }
    public PostOffice PostOffice { get; }
    public Plans.PlanBook Plans { get; }
    public string? StateDir { get; }
    public int ExitCode { get; private set; }
    public Task Completion => _completion.Task;

    /// <summary>Starts the loop thread and the entry job.</summary>
    public void Start()
    {
        _loop.Post(() =>
        {
            _log.LogInformation("chaqum {Version}: tree {Tree}, entry {Entry}", Program.Version, _tree.Root, _entryScript.Relative);
            Resume();
            _journal?.Begin();
            var entry = Scheduler.EnqueueEntry(_entryScript, _options.Arguments);
            if (entry.Outcome == Outcome.SpawnFailed)
            {
                _log.LogCritical("entry job {Entry} could not be started: {Reason}", entry.Id, entry.EndReason);
                ExitCode = 1;
            }
            else _status.Ready();
        });
        _thread = new Thread(RunLoop) { Name = "chaqum-loop", IsBackground = true };
        _thread.Start();
        _control.Start();
        // Once the socket answers: chaqum-web's first request finds it.
        if (_web is { } web) _loop.Post(web.Start);
    }

    /// <summary>The jobs the last run kept come back before init starts; init is told how
    /// many in CHAQUM_RESUMED (absent when none).</summary>
    private void Resume()
    {
        if (_last.Resumable.Count == 0 && _last.Groups.Count == 0) return;
        var (count, again) = new Resumption(Scheduler, _tree, StateDir!, _log).Run(_last);
        _last = Recovery.Result.Nothing; // 100 000 records need not live on
        if (count == 0) return;
        _log.LogInformation("resumed {Count} queued jobs ({Again} to run again)", count, again);
        _runner.EntryEnvironment.Add(new("CHAQUM_RESUMED", count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private void RunLoop()
    {
        try
        {
            _loop.Run();
        }
        catch (Exception e)
        {
            _log.LogCritical(e, "event loop failed");
            ExitCode = 70; // EX_SOFTWARE
        }
        finally
        {
            _runner.CloseAll();
            _completion.TrySetResult();
        }
    }

    public bool StopRequested => Volatile.Read(ref _stopSignals) > 0;

    /// <summary>SIGTERM/SIGINT or host stop: orderly stop; a second request kills at once.</summary>
    public void Stop()
    {
        int count = Interlocked.Increment(ref _stopSignals);
        _loop.Post(() =>
        {
            _status.Stopping("stop requested");
            _web?.Stop();
            // With a state directory, what waits is kept for the next start.
            if (count == 1) Scheduler.Shutdown(keep: _journal is not null);
            else
            {
                _log.LogWarning("second stop request: killing all jobs now");
                Scheduler.KillAllNow();
            }
        });
    }

    private void OnIdle()
    {
        _status.Stopping("nothing left to do");
        _web?.Stop();
        // Nothing survives the daemon: what jobs left behind, in cgroups that outlived
        // them or anywhere below us (we are the subreaper, so orphans are ours), gets
        // SIGTERM, then SIGKILL after the grace period, and we wait for it to be gone
        // (a killed process's own children come to us in turn, and are killed too).
        bool killing = Volatile.Read(ref _stopSignals) > 1;
        // chaqum-web (--web) was sent SIGTERM above; it counts as left until it is reaped.
        int Left(int signal) => _runner.SignalLeftovers(signal) + (_web?.Remaining(signal) ?? 0);
        if (Left(killing ? Signals.SIGKILL : Signals.SIGTERM) == 0)
        {
            StopLoop();
            return;
        }
        var deadline = _loop.Clock.Now + _options.Grace;
        void Check()
        {
            int left = Left(killing ? Signals.SIGKILL : 0);
            if (left == 0) { StopLoop(); return; }
            if (_loop.Clock.Now >= deadline || (!killing && Volatile.Read(ref _stopSignals) > 1))
            {
                if (killing)
                {
                    _log.LogError("{Count} processes left behind by jobs survive SIGKILL (uninterruptible sleep?); exiting without them", left);
                    StopLoop();
                    return;
                }
                killing = true;
                deadline = _loop.Clock.Now + _options.Grace;
                Left(Signals.SIGKILL);
            }
            _loop.After(TimeSpan.FromMilliseconds(50), Check);
        }
        _loop.After(TimeSpan.FromMilliseconds(50), Check);
    }

    private void StopLoop()
    {
        _jobNumbers.SaveExact();
        _log.LogInformation("nothing left to do; exiting with status {Status}", ExitCode);
        _loop.RequestStop();
    }

    /// <summary>The orderly end. Each step stands alone: a read-only or full state directory
    /// (say) makes a step fail, which is logged, and the others still run; the exit status
    /// stays what the run earned.</summary>
    public void Dispose()
    {
        Cleanup("the control socket", _control.Dispose);
        Cleanup("the systemd notifier", _notifier.Dispose);
        // The history first: the journal then keeps whatever it could not write.
        Cleanup("the history", () => _historyWriter?.Dispose());
        Cleanup("the live journal", () => _journal?.Dispose());
        Cleanup("the job output files", () => _outputFiles?.Dispose());
        if (StateDir is not null) Cleanup("the control-socket pointer", () => File.Delete(Path.Combine(StateDir, "control-socket")));
        Cleanup("the reaper", _reaper.Dispose);
        Cleanup("the spawner", _runner.Dispose);
        Cleanup("the load source", _load.Dispose);
        Cleanup("the file triggers", _watches.Dispose);
        Cleanup("the event loop", _loop.Dispose);
        Cleanup("the lock", () => _lock?.Dispose());
    }

    private void Cleanup(string what, Action step)
    {
        // Any exception: this is the last thing the daemon does, and one failed step must
        // neither hide the others nor turn an orderly exit into a crash.
        try { step(); }
        catch (Exception e)
        {
            _log.LogError("at exit: closing {What} failed: {Error}", what, e.Message);
        }
    }
}
