using Chaqum.EventLoop;

namespace Chaqum.Scheduling.Barriers;

/// <summary>
/// Samples the load source once per period, but only while someone needs figures (a group
/// has a job waiting on a barrier): an idle daemon reads nothing. The CPU share is the
/// busy fraction between two consecutive readings, so the first figure after sampling
/// starts is known one period later; load, memory and pressure are known at once.
/// </summary>
public sealed class LoadSampler
{
    private readonly ILoadSource _source;
    private readonly ITimers _timers;
    private readonly TimeSpan _period;
    private readonly Action<LoadFigures> _onSample;
    private ITimerHandle? _timer;
    private LoadReading? _previous;

    public LoadSampler(ILoadSource source, ITimers timers, TimeSpan period, Action<LoadFigures> onSample)
    {
        _source = source;
        _timers = timers;
        _period = period;
        _onSample = onSample;
    }

    public TimeSpan Period => _period;
    public LoadFigures? Latest { get; private set; }
    public bool Running => _timer is not null;
    /// <summary>Counts samples taken; lets tests and operators see that sampling happened.</summary>
    public long Samples { get; private set; }

    /// <summary>Starts periodic sampling if it is not running; takes a first reading now.</summary>
    public void Demand()
    {
        if (_timer is not null) return;
        _previous = null;
        Latest = null;
        Sample();
    }

    /// <summary>Stops sampling: nobody waits on a barrier any more.</summary>
    public void Release()
    {
        _timer?.Cancel();
        _timer = null;
        _previous = null;
        Latest = null;
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
