namespace Chaqum.EventLoop;

/// <summary>Time as the scheduler sees it; unit tests substitute a fake.</summary>
public interface IClock
{
    /// <summary>Monotonic time since an arbitrary origin: for intervals, timeouts and pacing.</summary>
    TimeSpan Now { get; }

    /// <summary>Wall-clock time: for cron schedules and for what humans read.</summary>
    DateTimeOffset WallNow { get; }
}

/// <summary>One-shot callbacks on the loop thread.</summary>
public interface ITimers
{
    /// <summary>Runs the callback once, after the delay, on the monotonic clock.</summary>
    ITimerHandle After(TimeSpan delay, Action callback);

    /// <summary>Runs the callback once the wall clock reaches the given time (it follows
    /// clock changes). onClockChanged is called instead when the wall clock is set.</summary>
    ITimerHandle AtWallTime(DateTimeOffset when, Action callback, Action onClockChanged);

    /// <summary>Whether the caller runs on the thread the callbacks run on: the event loop's,
    /// the only one that may change the daemon's state. Fakes that run everything on the
    /// test's own thread need not say anything.</summary>
    bool OnLoopThread => true;
}

public interface ITimerHandle
{
    void Cancel();
}

public sealed class SystemClock : IClock
{
    public static readonly SystemClock Instance = new();
    public TimeSpan Now => TimeSpan.FromTicks((long)(System.Diagnostics.Stopwatch.GetTimestamp() * TickFactor));
    public DateTimeOffset WallNow => DateTimeOffset.Now;
    private static readonly double TickFactor = (double)TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency;
}
