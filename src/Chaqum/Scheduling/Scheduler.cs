using Chaqum.EventLoop;
using Chaqum.Native;
using Chaqum.Scheduling.Barriers;
using Microsoft.Extensions.Logging;

namespace Chaqum.Scheduling;

/// <summary>
/// The one owner of job, group and repeat state. Everything here runs on the event-loop
/// thread: commands, process exits, timers and load samples arrive as calls, one at a
/// time. The process side is reached only through <see cref="IJobLauncher"/>, time only
/// through <see cref="IClock"/> and <see cref="ITimers"/>, load only through
/// <see cref="ILoadSource"/>, so the whole policy is unit-testable with fakes.
///
/// This file: enqueue, start, exit, kill, results and lifetime. Groups and barriers are
/// in Scheduler.Groups.cs, repeats in Scheduler.Repeats.cs.
/// </summary>
public sealed partial class Scheduler
{
    private readonly SchedulerSettings _settings;
    private readonly IClock _clock;
    private readonly ITimers _timers;
    private readonly IJobLauncher _launcher;
    private readonly IJobNumbers _numbers;
    private readonly ILogger _log;
    private readonly Repeats.IFileWatches? _watches;

    /// <summary>Active jobs, and finished ones whose result wait may still fetch.</summary>
    private readonly Dictionary<string, Job> _jobs = new();
    private readonly Dictionary<string, Job> _keys = new();
    private readonly Queue<Job> _retained = new();
    private readonly RecentStatuses _recent;
    private int _active;
    private Job? _entry;
    private bool _idleCheckPending;
    private bool _idleRaised;

    public Scheduler(SchedulerSettings settings, IClock clock, ITimers timers, ILoadSource load,
        IJobLauncher launcher, IJobNumbers numbers, ILogger log, Repeats.IFileWatches? watches = null)
    {
        _watches = watches;
        _settings = settings;
        _clock = clock;
        _timers = timers;
        _launcher = launcher;
        _numbers = numbers;
        _log = log;
        _recent = new RecentStatuses(settings.RecentStatuses);
        _sampler = new LoadSampler(load, clock, timers, settings.SamplePeriod, OnLoadSample);
        _defaultGroup = new Group("");
    }

    public SchedulerSettings Settings => _settings;
    public IClock Clock => _clock;

    /// <summary>A job started (its pid is known).</summary>
    public event Action<Job>? JobStarted;
    /// <summary>A job was created (it may still wait for dependencies or its group).</summary>
    public event Action<Job>? JobEnqueued;
    /// <summary>An attempt ended (with that attempt's outcome), whether or not the job will
    /// be retried.</summary>
    public event Action<Job, JobStatus, Outcome>? AttemptEnded;
    /// <summary>A job ended for good.</summary>
    public event Action<Job>? JobFinished;
    /// <summary>What a job that has not started would be enqueued again with changed
    /// (its priority, a hold): the live journal writes it again, for crash recovery.</summary>
    public event Action<Job>? JobChanged;
    /// <summary>A group's limits or pause changed (what the live journal keeps of it).</summary>
    public event Action<Group>? GroupChanged;
    /// <summary>The operator or a job did something to a job that is no state change of
    /// its own: killed (detail: the signal), paused, resumed. For the events stream.</summary>
    public event Action<Job, string, string?>? JobNoted;
    /// <summary>A repeat was added, removed, enabled or disabled (the word says which).</summary>
    public event Action<Repeats.Repeat, string>? RepeatChanged;
    /// <summary>Nothing is left to do: the daemon may exit. Raised once.</summary>
    public event Action? Idle;
    /// <summary>An orderly stop has begun (raised first thing in <see cref="Shutdown"/>):
    /// what waits outside the scheduler (a plan allocating its nodes) gives up.</summary>
    public event Action? ShuttingDown;

    public bool Stopping { get; private set; }
    public Job? Entry => _entry;
    public int ActiveCount => _active;
    public IEnumerable<Job> Jobs => _jobs.Values;

    public Job? Find(string id) => _jobs.GetValueOrDefault(id);

    /// <summary>Whether -a could name the id: a job here, or one that ended recently.</summary>
    public bool Knows(string id) => _jobs.ContainsKey(id) || _recent.TryGet(id, out _);

    /// <summary>How a job that is no longer here ended (from the history, at a restart),
    /// so that -a can name it as it could name any recently ended job.</summary>
    public void RememberEnded(string id, JobStatus status)
    {
        OwnedByLoop();
        _recent.Add(id, status);
    }

    /// <summary>Enqueues the entry job, called by its script name.</summary>
    public Job EnqueueEntry(ScriptPath script, string[] args)
    {
        _entry = Enqueue(new EnqueueRequest(script, args) { Id = script.Relative, IsEntry = true });
        return _entry;
    }

    /// <summary>Creates a job (or finds the one holding its key) and starts it when its
    /// group and dependencies allow.</summary>
    /// <exception cref="SchedulingException">The request cannot be honoured.</exception>
    public Job Enqueue(EnqueueRequest request)
    {
        OwnedByLoop();
        if (Stopping) throw new SchedulingException("the daemon is shutting down");

        if (request.Options.Key is { } key && _keys.TryGetValue(key, out var holder))
        {
            _log.LogDebug("{Job}: key {Key} already queued or running; enqueue answered with it", holder.Id, key);
            return holder;
        }

        // Resolve dependencies first: an unknown id refuses the whole enqueue.
        var dependencies = new List<Job>();
        string? failedDependency = null;
        foreach (var depId in request.Dependencies)
        {
            if (_jobs.TryGetValue(depId, out var dep))
            {
                if (dep.State.IsActive()) dependencies.Add(dep);
                else if (!dep.Status.Succeeded) failedDependency ??= $"dependency {dep.Id} ended ({dep.Status})";
            }
            else if (_recent.TryGet(depId, out var status))
            {
                if (!status.Succeeded) failedDependency ??= $"dependency {depId} ended ({status})";
            }
            else
            {
                throw new SchedulingException($"unknown job id '{depId}' for -a");
            }
        }

        if (request.AfterJob is { } after)
        {
            if (after.State.IsActive()) dependencies.Add(after);
            else if (!after.Status.Succeeded) failedDependency ??= Unmet(after);
        }
        Join? join = null;
        if (request.AfterJoin is { } j)
        {
            if (j.Failure is { } failure) failedDependency ??= failure;
            else if (!j.Settled) join = j;
        }

        var group = GroupFor(request.GroupName, request.Limits);
        long number;
        if (request.Number is { } kept) _numbers.Reserve(number = kept);
        else number = _numbers.Next();
        string id = request.Id ?? $"{request.Script.Relative}/{number}";
        var job = new Job(id, number, request.Script, request.Args, request.Parent, group, request.Options)
        {
            Owner = request.Owner,
            FormerParentId = request.FormerParent,
            Attempt = request.AttemptsMade,
            IsEntry = request.IsEntry,
            Repeat = request.Repeat,
            EnqueuedAt = _clock.WallNow,
            Priority = request.Priority,
            DueAt = request.DueAt,
            Held = request.Held,
            Urgent = request.Urgent,
            Step = request.Step,
        };
        // Before JobEnqueued: the live journal writes them with the job.
        if (dependencies.Count > 0 && failedDependency is null) job.WaitsOn = dependencies.ToArray();
        _jobs[id] = job;
        _active++;
        group.Members++;
        request.Parent?.AddChild(job);
        if (request.Changes is { } batch && request.Repeat?.Watch is { } trigger) trigger.Batches[job] = batch;
        if (request.Options.Key is { } k) _keys[k] = job;
        _log.LogDebug("{Job}: enqueued{Group}{Held}{Urgent}", id, group.IsDefault ? "" : " in group " + group.Name,
            job.Held ? ", held" : "", job.Urgent ? ", urgent" : "");
        JobEnqueued?.Invoke(job);

        if (failedDependency is not null)
        {
            Finish(job, JobState.Cancelled, JobStatus.NeverRan, Outcome.DependencyFailed, failedDependency);
            return job;
        }

        if (dependencies.Count > 0 || join is not null)
        {
            job.PendingDependencies = dependencies.Count + (join is null ? 0 : 1);
            foreach (var dep in dependencies)
            {
                dep.AddDependent(job);
                dep.OnFinished(d => DependencyEnded(job, d));
            }
            if (join is not null) (join.Waiting ??= new()).Add(job);
            return job;
        }

        Ready(job);
        return job;
    }

    private void DependencyEnded(Job job, Job dependency) =>
        PredecessorEnded(job, dependency.Status.Succeeded ? null : Unmet(dependency));

    /// <summary>Why a job that waited for this one will not run: "dependency convert/7
    /// ended (exit 1)"; for a plan's step, the step's place in its plan too.</summary>
    private static string Unmet(Job dependency) => dependency.Step is { } step
        ? $"earlier step {dependency.Id} ({step.Path}) ended ({dependency.Status})"
        : $"dependency {dependency.Id} ended ({dependency.Status})";

    /// <summary>One thing a pending job waited for (a job or a join) has ended; failure
    /// says why it can never be met, null when it was.</summary>
    private void PredecessorEnded(Job job, string? failure)
    {
        if (job.State != JobState.Pending) return;
        if (failure is not null)
        {
            // Its dependency was stopped with the daemon: the next start decides (from
            // what the history says of the dependency), not this one.
            if (job.Kept) return;
            Finish(job, JobState.Cancelled, JobStatus.NeverRan, Outcome.DependencyFailed, failure);
            return;
        }
        if (--job.PendingDependencies > 0) return;
        job.WaitsOn = null;
        Ready(job);
    }

    /// <summary>A join point of these jobs: settled when all have succeeded, or failed
    /// at the first that did not (see <see cref="Join"/>). Jobs wait for it through
    /// <see cref="EnqueueRequest.AfterJoin"/>.</summary>
    public Join JoinOf(IReadOnlyList<Job> inputs)
    {
        OwnedByLoop();
        var join = new Join(inputs.Count);
        foreach (var input in inputs) input.OnFinished(j => JoinInputEnded(join, j));
        return join;
    }

    private void JoinInputEnded(Join join, Job input)
    {
        if (join.Failure is not null) return;
        if (!input.Status.Succeeded) join.Failure = Unmet(input);
        else if (--join.Pending > 0) return;
        var waiting = join.Waiting;
        join.Waiting = null;
        if (waiting is null) return;
        foreach (var job in waiting) PredecessorEnded(job, join.Failure);
    }

    /// <summary>Spawns the head of a group's queue. Called by StartQueued only.</summary>
    private void Start(Job job)
    {
        var group = job.Group;
        group.Dequeue(job);
        JobStates.Move(job, JobState.Starting);
        job.Attempt++;
        job.KillSource = KillSource.None;
        if (group.MaxProcs > 0) job.Slot = group.Slots.Take();
        group.Running++;

        var result = _launcher.Launch(job);
        if (!result.Ok)
        {
            group.Running--;
            group.Slots.Release(job.Slot);
            job.Slot = -1;
            job.Attempt--;
            if (result.Transient && !Stopping)
            {
                // Out of processes or descriptors: keep the job, try again shortly.
                _log.LogWarning("{Job}: spawn failed ({Error}); trying again in {Delay}s", job.Id, result.Error, _settings.SpawnRetryDelay.TotalSeconds);
                JobStates.Move(job, JobState.Queued);
                group.Enqueue(job);
                group.SpawnBackoff = _timers.After(_settings.SpawnRetryDelay, () => { group.SpawnBackoff = null; StartQueued(group); });
                return;
            }
            Finish(job, JobState.Cancelled, JobStatus.NeverRan, Outcome.SpawnFailed, result.Error!);
            return;
        }

        job.Pid = result.Pid;
        job.LastPid = result.Pid;
        JobStates.Move(job, JobState.Running);
        job.StartedAt = _clock.WallNow;
        job.StartedMono = _clock.Now;
        if (job.Options.Timeout is { } timeout)
        {
            int attempt = job.Attempt;
            job.Timer = _timers.After(timeout, () => TimedOut(job, attempt));
        }
        _log.LogInformation("{Job}: started, pid {Pid}{Attempt}{Slot}{Step}", job.Id, job.Pid,
            job.Attempt > 1 ? $", attempt {job.Attempt}" : "",
            job.Slot >= 0 ? $", slot {job.Slot}" : "", StepOf(job));
        JobStarted?.Invoke(job);
    }

    private void TimedOut(Job job, int attempt)
    {
        if (job.State != JobState.Running || job.Attempt != attempt) return;
        _log.LogWarning("{Job}: timed out after {Timeout}s; sending SIGTERM", job.Id, job.Options.Timeout!.Value.TotalSeconds);
        job.KillSource = KillSource.Timeout;
        SignalWithEscalation(job, Signals.SIGTERM);
    }

    /// <summary>The job's process has been reaped.</summary>
    public void OnExited(Job job, JobStatus status, ResourceUsage usage)
    {
        OwnedByLoop();
        if (job.State != JobState.Running) return;
        var group = job.Group;
        group.Running--;
        group.Slots.Release(job.Slot);
        job.Slot = -1;
        job.Timer?.Cancel();
        job.Timer = null;
        bool escalating = job.EscalationTimer is not null;
        job.EscalationTimer?.Cancel();
        job.EscalationTimer = null;
        if (job.KillSource != KillSource.None)
        {
            // Killed, but what it started may live on (a child that ignores SIGTERM): the
            // rest of the kill goes to that, SIGKILL after the grace period as for the job.
            if (escalating) _timers.After(_settings.Grace, () => _launcher.SignalRemnants(job, Signals.SIGKILL));
            else _launcher.SignalRemnants(job, Signals.SIGKILL);
        }
        job.Usage = usage;
        job.Status = status;
        job.Pid = 0;
        job.Paused = false;
        var runtime = _clock.Now - job.StartedMono;
        var outcome = status.Succeeded ? Outcome.Exited
            : job.KillSource == KillSource.Timeout ? Outcome.TimedOut
            : job.KillSource != KillSource.None ? Outcome.Killed
            : status.Signal is not null ? Outcome.Killed
            // Neither an exit nor a signal: it never ran where it was sent (a Slurm job
            // that got no allocation). Retries apply, as to any failure.
            : status.ExitCode is null ? Outcome.SpawnFailed
            : Outcome.Failed;
        job.LastRuntime = runtime;
        AttemptEnded?.Invoke(job, status, outcome);
        CountForBreaker(group, job, status);

        bool retryable = job.KillSource is KillSource.None or KillSource.Timeout;
        if (!status.Succeeded && _keeping && job.KillSource == KillSource.Shutdown && job.Options.Requeue && Keepable(job))
        {
            // -R: stopped with the daemon, it runs again after the restart (this attempt counts).
            JobStates.Move(job, JobState.Retrying);
            Keep(job);
            _log.LogInformation("{Job}: stopped with the daemon ({Status}); kept to run again after the restart (-R)", job.Id, status);
            ScheduleIdleCheck();
        }
        else if (!status.Succeeded && retryable && job.Attempt <= job.Options.Retries && !Stopping)
        {
            var delay = RetryDelay(job.Attempt);
            _log.LogWarning("{Job}: attempt {Attempt} ended with {Status} after {Runtime}; retrying in {Delay}s",
                job.Id, job.Attempt, status, Format(runtime), delay.TotalSeconds);
            JobStates.Move(job, JobState.Retrying);
            job.Timer = _timers.After(delay, () => RetryDue(job));
        }
        else
        {
            Finish(job, JobState.Done, status, outcome, $"{status} after {Format(runtime)}");
        }
        StartQueued(group);
    }

    /// <summary>Exponential backoff: 1 s, 2 s, 4 s ... capped at 5 minutes.</summary>
    public TimeSpan RetryDelay(int attempt)
    {
        double seconds = _settings.RetryBase.TotalSeconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        return TimeSpan.FromSeconds(Math.Min(seconds, _settings.RetryCap.TotalSeconds));
    }

    private void RetryDue(Job job)
    {
        if (job.State != JobState.Retrying) return;
        job.Timer = null;
        JoinQueue(job);
    }

    /// <summary>Kills a job: a queued one is cancelled, a running one gets the signal on
    /// its process group and, unless it dies within the grace period, SIGKILL.</summary>
    public void Kill(Job job, int signal, KillSource source)
    {
        OwnedByLoop();
        switch (job.State)
        {
            case JobState.Pending:
            case JobState.Scheduled:
            case JobState.Queued:
                Unschedule(job);
                job.Group.Dequeue(job);
                Finish(job, JobState.Cancelled, JobStatus.NeverRan, Outcome.Cancelled, $"cancelled before start ({Describe(source)})");
                StartQueued(job.Group);
                break;
            case JobState.Retrying:
                job.Timer?.Cancel();
                job.Timer = null;
                job.KillSource = source;
                Finish(job, JobState.Done, job.Status, Outcome.Killed, $"retries cancelled ({Describe(source)}); last attempt: {job.Status}");
                break;
            case JobState.Running:
                if (source != KillSource.Timeout || job.KillSource == KillSource.None) job.KillSource = source;
                _log.LogInformation("{Job}: sending {Signal} ({Source})", job.Id, Signals.Name(signal), Describe(source));
                SignalWithEscalation(job, signal);
                JobNoted?.Invoke(job, "killed", Signals.Name(signal));
                break;
        }
    }

    private void SignalWithEscalation(Job job, int signal)
    {
        _launcher.Signal(job, signal);
        if (signal == Signals.SIGKILL || job.EscalationTimer is not null) return;
        int attempt = job.Attempt;
        job.EscalationTimer = _timers.After(_settings.Grace, () =>
        {
            job.EscalationTimer = null;
            if (job.State != JobState.Running || job.Attempt != attempt) return;
            _log.LogWarning("{Job}: still running {Grace}s after {Signal}; sending SIGKILL", job.Id, _settings.Grace.TotalSeconds, Signals.Name(signal));
            _launcher.Signal(job, Signals.SIGKILL);
        });
    }

    private static string Describe(KillSource source) => source switch
    {
        KillSource.Command => "killjobs",
        KillSource.Operator => "operator",
        KillSource.Shutdown => "shutdown",
        KillSource.Timeout => "timeout",
        _ => "kill",
    };

    /// <summary>Ends a job for good: releases its key, keeps or drops its result, wakes
    /// whoever waits for it, and checks whether the daemon has anything left to do.</summary>
    private void Finish(Job job, JobState state, JobStatus status, Outcome outcome, string reason)
    {
        JobStates.Move(job, state);
        job.Status = status;
        job.Outcome = outcome;
        job.EndReason = reason;
        job.EndedAt = _clock.WallNow;
        job.Timer?.Cancel();
        job.Timer = null;
        if (job.Kept)
        {
            job.Kept = false;
            _kept--;
        }
        _active--;
        job.Group.Members--;
        ForgetIfUnused(job.Group);
        if (job.Options.Key is { } key && _keys.TryGetValue(key, out var holder) && ReferenceEquals(holder, job))
            _keys.Remove(key);
        _recent.Add(job.Id, status);

        var level = outcome switch
        {
            Outcome.Exited or Outcome.Cancelled => LogLevel.Information,
            Outcome.Killed when job.KillSource is KillSource.Command or KillSource.Operator or KillSource.Shutdown => LogLevel.Information,
            _ => LogLevel.Warning,
        };
        _log.Log(level, "{Job}: {Outcome}: {Reason}{Step}", job.Id, outcome.Word().Replace('_', ' '), reason, StepOf(job));

        // A result is kept for wait until fetched once, or until the job that enqueued it
        // has exited; -F, the entry job and repeat firings keep none.
        bool keep = !job.Options.Forget && job.Parent is { } parent && parent.State.IsActive();
        if (keep)
        {
            job.ResultRetained = true;
            _retained.Enqueue(job);
            TrimRetained();
        }
        else
        {
            Drop(job);
        }

        // Children's results were kept for this job: it cannot wait for them any more.
        foreach (var child in job.Children.ToArray())
            if (child.ResultRetained) Drop(child);

        if (job.Repeat?.Watch is { } watch) TriggerRunEnded(job.Repeat, watch, job);
        job.NotifyFinished();
        JobFinished?.Invoke(job);
        ScheduleIdleCheck();
    }

    private void TrimRetained()
    {
        while (_retained.Count > _settings.RetainedResults)
        {
            var oldest = _retained.Dequeue();
            if (oldest.ResultRetained)
            {
                _log.LogDebug("{Job}: result dropped unfetched (more than {Max} kept)", oldest.Id, _settings.RetainedResults);
                Drop(oldest);
            }
        }
        // Keep the queue from filling with already-fetched entries.
        while (_retained.Count > 0 && !_retained.Peek().ResultRetained) _retained.Dequeue();
    }

    /// <summary>wait has reported the job's final status: the result is gone.</summary>
    public void Consume(Job job)
    {
        OwnedByLoop();
        if (job.State.IsActive()) return;
        Drop(job);
    }

    private void Drop(Job job)
    {
        job.ResultRetained = false;
        if (_jobs.TryGetValue(job.Id, out var known) && ReferenceEquals(known, job)) _jobs.Remove(job.Id);
        job.Parent?.RemoveChild(job);
    }

    /// <summary>Orderly stop: no more repeats, running jobs TERM'd (KILL after the grace
    /// period). Jobs that wait (queued, pending, between retries, not yet due) are kept
    /// for the next start when keep is set (there is a state directory to keep them in):
    /// they stay as they are, start no more, and do not hold up the exit; -R jobs join
    /// them when they have been stopped. Without keep they are cancelled. Repeat firings
    /// are never kept (the next init registers its repeats again), nor is the entry job.
    /// Idle is raised once the last running job is reaped.</summary>
    public void Shutdown(bool keep = false)
    {
        OwnedByLoop();
        if (Stopping) return;
        Stopping = true;
        _keeping = keep;
        _log.LogInformation("stopping: {Running} running, {Queued} queued, {Repeats} repeats",
            _jobs.Values.Count(j => j.State == JobState.Running),
            _jobs.Values.Count(j => j.State.IsActive() && j.State is not (JobState.Running or JobState.Starting)),
            _repeats.Count);
        ShuttingDown?.Invoke();
        StopRepeats();
        _sampler.Release();
        int dropped = 0;
        foreach (var job in _jobs.Values.Where(j => j.State.IsActive()).OrderBy(j => j.State == JobState.Running).ToList())
        {
            bool waiting = job.State is not (JobState.Running or JobState.Starting);
            if (waiting && keep && Keepable(job))
            {
                // A retry's backoff timer would only move it to a queue that starts nothing now.
                job.Timer?.Cancel();
                job.Timer = null;
                Keep(job);
                continue;
            }
            if (waiting && Keepable(job)) dropped++;
            Kill(job, Signals.SIGTERM, KillSource.Shutdown);
        }
        if (dropped > 0)
            _log.LogWarning("dropping {Count} queued jobs: without a state directory nothing can be kept for the next start", dropped);
        ScheduleIdleCheck();
    }

    private bool _keeping;
    private int _kept;

    /// <summary>Plan steps are not kept: a plan ends (cancelled) with the daemon that ran
    /// it (docs/plans.md, "Restarts"), so none of its steps may outlive it.</summary>
    private static bool Keepable(Job job) => !job.IsEntry && job.Repeat is null && job.Step is null;

    private void Keep(Job job)
    {
        job.Kept = true;
        _kept++;
    }

    /// <summary>Jobs kept for the next start (an orderly stop with a state directory).</summary>
    public int KeptCount => _kept;

    /// <summary>Second SIGTERM: do not wait for the grace period.</summary>
    public void KillAllNow()
    {
        OwnedByLoop();
        foreach (var job in _jobs.Values.Where(j => j.State == JobState.Running).ToList())
            _launcher.Signal(job, Signals.SIGKILL);
    }

    /// <summary>Runs the idle check after the current event has been fully handled, so a
    /// command that a finishing job left in its pipe can still enqueue work first.</summary>
    private void ScheduleIdleCheck()
    {
        if (_idleCheckPending) return;
        _idleCheckPending = true;
        _timers.After(TimeSpan.Zero, () =>
        {
            _idleCheckPending = false;
            CheckIdle();
        });
    }

    public bool IsIdle => _active - _kept == 0 && _keepAlives == 0 && (_entry is null || _entry.State.IsFinished()) && (Stopping || _repeats.Count == 0);

    /// <summary>Work outside the jobs that the daemon must see to its end before it exits:
    /// a plan's Slurm allocations, from the salloc that asks to the scancel that gives them
    /// back (an exit in between would leave a node allocated, or a request pending).</summary>
    private int _keepAlives;

    /// <summary>Keeps the daemon from going idle until <see cref="EndKeepAlive"/>. (Not
    /// <see cref="Hold(Job)"/>, which holds a job back from starting.)</summary>
    public void KeepAlive()
    {
        OwnedByLoop();
        _keepAlives++;
    }

    public void EndKeepAlive()
    {
        OwnedByLoop();
        if (_keepAlives > 0) _keepAlives--;
        ScheduleIdleCheck();
    }

    public void CheckIdle()
    {
        if (_idleRaised || !IsIdle) return;
        _idleRaised = true;
        Idle?.Invoke();
    }

    /// <summary>
    /// Scheduler state has one owner, the event-loop thread, and no locks: a change made on
    /// any other thread (a control session, a thread-pool callback) would corrupt queues
    /// and counters silently, so every entry point that changes state checks here (one
    /// comparison of thread ids) and refuses loudly instead.
    /// </summary>
    internal void OwnedByLoop()
    {
        if (!_timers.OnLoopThread)
            throw new InvalidOperationException($"scheduler state changed on thread {Environment.CurrentManagedThreadId}, not the event loop's");
    }

    /// <summary>A plan step's place, for its log lines: " [plan/3 > 1 > convert a.png]".</summary>
    private static string StepOf(Job job) => job.Step is { } step ? $" [{step.Path}]" : "";

    internal static string Format(TimeSpan t) =>
        t.TotalSeconds < 60 ? $"{t.TotalSeconds:0.###}s"
        : t.TotalHours < 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s"
        : $"{(int)t.TotalHours}h{t.Minutes:00}m";
}
