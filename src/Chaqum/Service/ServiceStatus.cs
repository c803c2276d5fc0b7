using Chaqum.Scheduling;

namespace Chaqum.Service;

/// <summary>
/// Keeps systemd informed from the event loop: READY=1 once the entry job is spawned,
/// STATUS= with running and queued counts and what holds queued jobs back (at most once
/// a second), WATCHDOG=1 at half the watchdog interval (sent by a loop timer, so it stops
/// when the loop is stuck), STOPPING=1 on shutdown.
/// </summary>
public sealed class ServiceStatus
{
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    private readonly SystemdNotifier _notifier;
    private readonly Scheduler _scheduler;
    private readonly EventLoop.EpollLoop _loop;
    private TimeSpan _lastSent = TimeSpan.FromDays(-1);
    private string? _lastStatus;
    private bool _pending;
    private bool _stopping;

    public ServiceStatus(SystemdNotifier notifier, Scheduler scheduler, EventLoop.EpollLoop loop)
    {
        _notifier = notifier;
        _scheduler = scheduler;
        _loop = loop;
        if (!notifier.Enabled) return;
        scheduler.JobEnqueued += _ => Changed();
        scheduler.JobStarted += _ => Changed();
        scheduler.JobFinished += _ => Changed();
    }

    /// <summary>On the loop: the entry job is running.</summary>
    public void Ready()
    {
        if (!_notifier.Enabled) return;
        _lastStatus = Describe();
        _lastSent = _loop.Clock.Now;
        _notifier.Notify($"READY=1\nSTATUS={_lastStatus}\nMAINPID={Environment.ProcessId}");
        if (SystemdNotifier.WatchdogInterval() is { } interval) Watchdog(interval / 2);
    }

    public void Stopping(string why)
    {
        if (!_notifier.Enabled || _stopping) return;
        _stopping = true;
        _notifier.Notify($"STOPPING=1\nSTATUS=stopping: {why}");
    }

    private void Watchdog(TimeSpan every)
    {
        _notifier.Notify("WATCHDOG=1");
        _loop.After(every, () => Watchdog(every));
    }

    private void Changed()
    {
        if (_pending || _stopping) return;
        _pending = true;
        var due = _lastSent + MinInterval - _loop.Clock.Now;
        _loop.After(due > TimeSpan.Zero ? due : TimeSpan.Zero, Send);
    }

    private void Send()
    {
        _pending = false;
        if (_stopping) return;
        var status = Describe();
        if (status == _lastStatus) return;
        _lastStatus = status;
        _lastSent = _loop.Clock.Now;
        _notifier.Notify("STATUS=" + status);
    }

    /// <summary>"3 running, 120 queued, 4 scheduled; held: convert (load 4.2 > 4)".</summary>
    public string Describe()
    {
        int running = 0, queued = 0;
        var held = new List<string>();
        foreach (var g in _scheduler.Groups.Prepend(_scheduler.DefaultGroup).Distinct())
        {
            running += g.Running;
            queued += g.QueuedCount;
            if (g.QueuedCount > 0 && g.HoldReason is { } why) held.Add($"{g.Label} ({why})");
            else if (g.QueuedCount > 0 && g.Paused) held.Add($"{g.Label} (paused)");
        }
        var text = $"{running} running, {queued} queued";
        if (_scheduler.ScheduledCount > 0) text += $", {_scheduler.ScheduledCount} scheduled";
        return held.Count > 0 ? text + "; held: " + string.Join(", ", held) : text;
    }
}
