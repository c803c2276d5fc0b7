using Chaqum.EventLoop;

namespace Chaqum.Scheduling.Barriers;

/// <summary>
/// Samples the load source once per period, but only while someone needs figures (a group
/// has a job waiting on a barrier): an idle daemon reads nothing. Samples are never closer
/// than one period, even across a pause in demand, so "wait for a fresh sample" always
/// means waiting for the load to have had a period to show. The CPU share is the busy
/// fraction between two consecutive readings, so after a long pause it is known one
/// period after sampling resumes; load, memory and pressure are known at once.
/// </summary>
public sealed class LoadSampler
{
    private readonly ILoadSource _source;
    private readonly ITimers _timers;
    private readonly TimeSpan _period;
    private readonly Action<LoadFigures> _onSample;
    private ITimerHandle? _timer;
    private LoadReading? _previous;

    private readonly IClock _clock;

    public LoadSampler(ILoadSource source, IClock clock, ITimers timers, TimeSpan period, Action<LoadFigures> onSample)
    {
        _clock = clock;
        _source = source;
        _timers = timers;
        _period = period;
        _onSample = onSample;
    }

    public TimeSpan Period => _period;
    public LoadFigures? Latest { get; private set; }
    private TimeSpan _latestAt;
    public bool Running => _timer is not null;

    /// <summary>The latest figures if they are current (sampling runs, or the last sample
    /// is less than a period old); null when they would be stale.</summary>
    public LoadFigures? Fresh =>
        Latest is not null && (Running || _clock.Now - _latestAt < _period) ? Latest : null;
    /// <summary>Counts samples taken; lets tests and operators see that sampling happened.</summary>
    public long Samples { get; private set; }

    /// <summary>Starts periodic sampling if it is not running; takes a first reading now.</summary>
    public void Demand()
    {
        if (_timer is not null) return;
        var since = _clock.Now - _latestAt;
        if (Latest is null || since >= _period)
        {
            // A CPU reading older than two periods says nothing about now.
            if (since >= _period * 2) _previous = null;
            Sample();
        }
        else
        {
            _timer = _timers.After(_period - since, Sample);
        }
    }

    /// <summary>Stops sampling: nobody waits on a barrier any more.</summary>
    public void Release()
    {
        _timer?.Cancel();
        _timer = null;
    }

    private void Sample()
    {
        _timer = _timers.After(_period, Sample);
        var reading = _source.Read();
        double? cpu = null;
        if (reading.CpuOk && _previous is { CpuOk: true } prev)
        {
            long total = reading.CpuTotalTicks - prev.CpuTotalTicks;
            long busy = reading.CpuBusyTicks - prev.CpuBusyTicks;
            // No ticks elapsed (sampling faster than the kernel's tick): keep the last figure.
            cpu = total > 0 ? Math.Clamp((double)busy / total, 0, 1) : Latest?.CpuBusy;
        }
        _previous = reading;
        _latestAt = _clock.Now;
        Samples++;
        Latest = new LoadFigures
        {
            CpuBusy = cpu,
            Load1 = reading.LoadOk ? reading.Load1 : null,
            MemAvailable = reading.MemOk ? reading.MemAvailable : null,
            CpuPressure = reading.PressureOk ? reading.CpuPressure : null,
            PressureSupported = reading.PressureSupported,
            Error = reading.Error,
        };
        _onSample(Latest);
    }
}
