using Chaqum.EventLoop;
using Chaqum.Native;
using Chaqum.Scheduling;
using Chaqum.Scheduling.Barriers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chaqum.Tests.Scheduling;

/// <summary>A clock and timers that move only when the test says so.</summary>
public sealed class FakeTime : IClock, ITimers
{
    private readonly List<Entry> _timers = new();
    private long _seq;

    public TimeSpan Now { get; private set; } = TimeSpan.FromHours(1);
    public DateTimeOffset WallNow { get; set; } = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private sealed class Entry : ITimerHandle
    {
        public required Action Callback;
        public TimeSpan? Due;
        public DateTimeOffset? WallDue;
        public Action? OnClockChanged;
        public long Seq;
        public bool Cancelled;
        public void Cancel() => Cancelled = true;
    }

    public ITimerHandle After(TimeSpan delay, Action callback)
    {
        var e = new Entry { Callback = callback, Due = Now + (delay < TimeSpan.Zero ? TimeSpan.Zero : delay), Seq = _seq++ };
        _timers.Add(e);
        return e;
    }

    public ITimerHandle AtWallTime(DateTimeOffset when, Action callback, Action onClockChanged)
    {
        var e = new Entry { Callback = callback, WallDue = when, OnClockChanged = onClockChanged, Seq = _seq++ };
        _timers.Add(e);
        return e;
    }

    /// <summary>Runs everything due now (timers scheduled for "now" included).</summary>
    public void RunDue() => Advance(TimeSpan.Zero);

    /// <summary>Moves both clocks forward, firing timers in deadline order on the way.</summary>
    public void Advance(TimeSpan by)
    {
        var end = Now + by;
        var wallEnd = WallNow + by;
        while (true)
        {
            var next = _timers.Where(t => !t.Cancelled && (t.Due is { } d ? d <= end : t.WallDue <= wallEnd))
                .OrderBy(t => t.Due ?? Now + (t.WallDue!.Value - WallNow)).ThenBy(t => t.Seq).FirstOrDefault();
            if (next is null) break;
            var at = next.Due ?? Now + (next.WallDue!.Value - WallNow);
            if (at > Now) { WallNow += at - Now; Now = at; }
            _timers.Remove(next);
            next.Callback();
        }
        WallNow = wallEnd;
        Now = end;
    }

    /// <summary>The wall clock is set (not the monotonic one): wall timers are told.</summary>
    public void SetWallClock(DateTimeOffset to)
    {
        WallNow = to;
        foreach (var t in _timers.Where(t => !t.Cancelled && t.WallDue is not null).ToList())
        {
            _timers.Remove(t);
            t.OnClockChanged!();
        }
    }

    public int Pending => _timers.Count(t => !t.Cancelled);
}

public sealed class FakeLoad : ILoadSource
{
    public long Busy, Total;
    public double Load1;
    public long MemAvailable = 8L << 30;
    public double Pressure;
    public bool PressureSupported = true;
    public bool Broken;
    public int Reads;

    /// <summary>Advances the CPU counters as if the last period was `busyShare` busy.</summary>
    public void Cpu(double busyShare, long ticks = 100)
    {
        Busy += (long)(busyShare * ticks);
        Total += ticks;
    }

    public LoadReading Read()
    {
        Reads++;
        if (Broken) return new LoadReading(0, 0, false, 0, false, 0, false, 0, false, PressureSupported, "/proc/stat: Permission denied");
        return new LoadReading(Busy, Total, true, Load1, true, MemAvailable, true, Pressure, PressureSupported, PressureSupported, null);
    }
}

/// <summary>Records launches and signals; the test decides when jobs exit.</summary>
public sealed class FakeLauncher : IJobLauncher
{
    public readonly List<(Job Job, int Attempt, int Slot)> Launched = new();
    public readonly List<(Job Job, int Signal)> Signals = new();
    public Func<Job, LaunchResult?>? Override;
    private int _pid = 1000;

    public LaunchResult Launch(Job job)
    {
        if (Override?.Invoke(job) is { } r) return r;
        Launched.Add((job, job.Attempt, job.Slot));
        return LaunchResult.Started(++_pid);
    }

    public void Signal(Job job, int signal) => Signals.Add((job, signal));

    public IEnumerable<Job> Running(Scheduler s) => s.Jobs.Where(j => j.State == JobState.Running);
}

public sealed class Counter : IJobNumbers
{
    private long _n;
    public long Next() => ++_n;
}

/// <summary>A scheduler wired to fakes, with helpers to enqueue and end jobs.</summary>
public sealed class Harness
{
    public readonly FakeTime Time = new();
    public readonly FakeLoad Load = new();
    public readonly FakeLauncher Launcher = new();
    public readonly Scheduler Scheduler;
    public readonly Job Init;
    public int IdleRaised;

    public readonly FakeWatches Watches = new();

    public Harness(SchedulerSettings? settings = null)
    {
        Scheduler = new Scheduler(settings ?? new SchedulerSettings { Grace = TimeSpan.FromSeconds(10) }, Time, Time, Load, Launcher, new Counter(), NullLogger.Instance, Watches);
        Scheduler.Idle += () => IdleRaised++;
        Init = Scheduler.EnqueueEntry(Script("init"), Array.Empty<string>());
    }

    public static ScriptPath Script(string name) => new(name, "/tree/" + name);

    public Job Enqueue(string script = "work", string? group = null, GroupLimits? limits = null, int priority = 0,
        JobOptions? options = null, params string[] after)
    {
        return Scheduler.Enqueue(new EnqueueRequest(Script(script), Array.Empty<string>())
        {
            Parent = Init,
            GroupName = group,
            Limits = limits ?? GroupLimits.Unchanged,
            Priority = priority,
            Options = options ?? JobOptions.Default,
            Dependencies = after,
        });
    }

    public void Exit(Job job, int code = 0) => Scheduler.OnExited(job, JobStatus.Exited(code), default);
    public void Die(Job job, int signal) => Scheduler.OnExited(job, JobStatus.Killed(signal), default);

    public List<Job> Started => Launcher.Launched.Select(l => l.Job).ToList();
}

/// <summary>File watches the test drives: it says which path changed; batches are kept in
/// memory instead of files.</summary>
public sealed class FakeWatches : Chaqum.Scheduling.Repeats.IFileWatches
{
    public readonly Dictionary<string, Chaqum.Scheduling.Repeats.IFileWatchListener> Listeners = new();
    public readonly Dictionary<string, IReadOnlyList<string>> Written = new();
    public readonly List<string> Discarded = new();
    public string? Refuse;
    private int _n;

    public Chaqum.Scheduling.Repeats.IFileWatch Watch(string repeatId, IReadOnlyList<Chaqum.Scheduling.Repeats.WatchedPath> paths,
        Chaqum.Scheduling.Repeats.IFileWatchListener listener)
    {
        if (Refuse is not null) throw new SchedulingException(Refuse);
        Listeners[repeatId] = listener;
        return new Handle(this, repeatId);
    }

    private sealed class Handle(FakeWatches owner, string id) : Chaqum.Scheduling.Repeats.IFileWatch
    {
        public void Close() => owner.Listeners.Remove(id);
    }

    public Chaqum.Scheduling.Repeats.ChangeBatch Write(string jobName, IReadOnlyList<string> paths, bool incomplete)
    {
        var file = $"/changes/{++_n}";
        Written[file] = paths.ToList();
        return new Chaqum.Scheduling.Repeats.ChangeBatch(file, paths.Count, incomplete);
    }

    public void Discard(Chaqum.Scheduling.Repeats.ChangeBatch batch) => Discarded.Add(batch.File);

    /// <summary>The paths the job was given.</summary>
    public IReadOnlyList<string> PathsOf(Job job) => Written[job.Repeat!.Watch!.BatchOf(job)!.File];
}
