using System.Collections.Concurrent;
using Chaqum.Native;
using Microsoft.Extensions.Logging;
using Mono.Unix.Native;

namespace Chaqum.EventLoop;

/// <summary>Something that wants to hear when a descriptor is ready.</summary>
public interface IReadyHandler
{
    void OnReady(EpollEvents events);
}

/// <summary>
/// The daemon's single thread of control. Every state change (job exited, command line
/// received, timer fired, load sampled, operator request) runs here, one at a time, so
/// the scheduler needs no locks. Descriptors are watched with epoll (via Mono.Posix);
/// other threads hand work in with Post(), which rings an eventfd. Monotonic timers are
/// kept in a heap whose head sets epoll_wait's timeout; wall-clock timers (cron) use a
/// realtime timerfd so that clock changes are noticed.
/// </summary>
public sealed class EpollLoop : ITimers, IDisposable
{
    private readonly ILogger _log;
    private readonly IClock _clock;
    private readonly int _epoll;
    private readonly int _wakeFd;
    private readonly int _wallTimerFd;
    private readonly ConcurrentQueue<Action> _posted = new();
    private readonly TimerQueue _timers = new();
    private readonly Dictionary<long, IReadyHandler> _handlers = new();
    private readonly List<WallTimer> _wallTimers = new();
    private readonly EpollEvent[] _events = new EpollEvent[256];
    private long _nextToken = 3; // 1 and 2 are the wake-up eventfd and the wall timer
    private int _loopThreadId;
    private volatile bool _stop;

    private const long WakeToken = 1;
    private const long WallTimerToken = 2;

    public EpollLoop(ILogger log, IClock clock)
    {
        _log = log;
        _clock = clock;
        // Mono.Posix defines EPOLL_CLOEXEC as decimal 2000000 (the octal 02000000 misread),
        // which the kernel rejects; pass the real O_CLOEXEC value.
        _epoll = Syscall.epoll_create((EpollFlags)0x80000);
        if (_epoll < 0) throw new IOException($"epoll_create1: {Stdlib.GetLastError()}");
        _wakeFd = EventFd.Create();
        _wallTimerFd = TimerFd.CreateRealtime();
        AddRaw(_wakeFd, EpollEvents.EPOLLIN, WakeToken);
        AddRaw(_wallTimerFd, EpollEvents.EPOLLIN, WallTimerToken);
    }

    public IClock Clock => _clock;

    /// <summary>True on the thread in <see cref="Run"/>; false anywhere else, and before the
    /// loop runs.</summary>
    public bool OnLoopThread => Environment.CurrentManagedThreadId == _loopThreadId;

    /// <summary>Watches fd for the given events; returns a token for Modify/Remove.</summary>
    public long Add(int fd, EpollEvents events, IReadyHandler handler)
    {
        long token = _nextToken++;
        _handlers[token] = handler;
        AddRaw(fd, events, token);
        return token;
    }

    private void AddRaw(int fd, EpollEvents events, long token)
    {
        var ev = new EpollEvent { events = events, u64 = (ulong)token };
        if (Syscall.epoll_ctl(_epoll, EpollOp.EPOLL_CTL_ADD, fd, ref ev) != 0)
            throw new IOException($"epoll_ctl(ADD, {fd}): {Stdlib.GetLastError()}");
    }

    public void Modify(int fd, EpollEvents events, long token)
    {
        var ev = new EpollEvent { events = events, u64 = (ulong)token };
        Syscall.epoll_ctl(_epoll, EpollOp.EPOLL_CTL_MOD, fd, ref ev);
    }

    /// <summary>Stops watching fd. Call before closing it.</summary>
    public void Remove(int fd, long token)
    {
        _handlers.Remove(token);
        var ev = new EpollEvent();
        Syscall.epoll_ctl(_epoll, EpollOp.EPOLL_CTL_DEL, fd, ref ev);
    }

    /// <summary>Runs the action on the loop thread soon. Safe from any thread.</summary>
    public void Post(Action action)
    {
        _posted.Enqueue(action);
        EventFd.Signal(_wakeFd);
    }

    public ITimerHandle After(TimeSpan delay, Action callback) =>
        _timers.Add(_clock.Now + (delay < TimeSpan.Zero ? TimeSpan.Zero : delay), callback);

    public ITimerHandle AtWallTime(DateTimeOffset when, Action callback, Action onClockChanged)
    {
        var timer = new WallTimer(this, when, callback, onClockChanged);
        _wallTimers.Add(timer);
        ArmWallTimer();
        return timer;
    }

    private sealed class WallTimer(EpollLoop loop, DateTimeOffset when, Action callback, Action onClockChanged) : ITimerHandle
    {
        public DateTimeOffset When { get; } = when;
        public Action Callback { get; } = callback;
        public Action OnClockChanged { get; } = onClockChanged;

        public void Cancel()
        {
            if (loop._wallTimers.Remove(this)) loop.ArmWallTimer();
        }
    }

    private void ArmWallTimer()
    {
        DateTimeOffset? earliest = null;
        foreach (var t in _wallTimers)
            if (earliest is null || t.When < earliest) earliest = t.When;
        TimerFd.ArmAt(_wallTimerFd, earliest);
    }

    private void OnWallTimer()
    {
        bool clockSet = TimerFd.Acknowledge(_wallTimerFd);
        var now = _clock.WallNow;
        var fire = new List<WallTimer>();
        foreach (var t in _wallTimers)
            if (clockSet || t.When <= now) fire.Add(t);
        foreach (var t in fire) _wallTimers.Remove(t);
        ArmWallTimer();
        foreach (var t in fire)
        {
            // After a clock change the owner recomputes rather than firing: a jump forward
            // must not fire many missed occurrences, a jump back must not fire early.
            if (clockSet && t.When > now) Guard(t.OnClockChanged);
            else Guard(t.Callback);
        }
    }

    public void RequestStop()
    {
        _stop = true;
        EventFd.Signal(_wakeFd);
    }

    /// <summary>Runs until RequestStop. Must be called on the thread that owns the loop.</summary>
    public void Run()
    {
        _loopThreadId = Environment.CurrentManagedThreadId;
        Logging.StderrBuffer.Deferring = true;
        try { RunUntilStopped(); }
        finally { Logging.StderrBuffer.Deferring = false; }
    }

    private void RunUntilStopped()
    {
        while (!_stop)
        {
            RunPosted();
            RunDueTimers();
            if (_stop) break;

            int timeout = -1;
            if (_posted.IsEmpty && _timers.NextDue is { } due)
            {
                var wait = due - _clock.Now;
                timeout = wait <= TimeSpan.Zero ? 0 : (int)Math.Min(Math.Ceiling(wait.TotalMilliseconds), int.MaxValue);
            }
            else if (!_posted.IsEmpty)
            {
                timeout = 0;
            }

            // What this turn logged goes out before the loop sleeps (see StderrBuffer).
            Logging.StderrBuffer.Deferring = false;
            int n;
            if (HasMemoryToGiveBack && (timeout < 0 || timeout > QuietMilliseconds))
            {
                n = Syscall.epoll_wait(_epoll, _events, _events.Length, QuietMilliseconds);
                if (n == 0)
                {
                    GiveBackMemory();
                    continue;
                }
            }
            else
            {
                n = Syscall.epoll_wait(_epoll, _events, _events.Length, timeout);
            }
            Logging.StderrBuffer.Deferring = true;
            if (n < 0)
            {
                var errno = Stdlib.GetLastError();
                if (errno == Mono.Unix.Native.Errno.EINTR) continue;
                throw new IOException($"epoll_wait: {errno}");
            }

            for (int i = 0; i < n; i++)
            {
                long token = (long)_events[i].u64;
                var events = _events[i].events;
                if (token == WakeToken) { EventFd.Drain(_wakeFd); continue; }
                if (token == WallTimerToken) { OnWallTimer(); continue; }
                if (_handlers.TryGetValue(token, out var handler))
                {
                    try { handler.OnReady(events); }
                    catch (Exception e) { _log.LogError(e, "internal error in descriptor handler"); }
                }
            }
        }
    }

    /// <summary>How long the loop must have had nothing to do before it gives memory back.</summary>
    private const int QuietMilliseconds = 250;

    /// <summary>Allocations since the last give-back that make one worth it: a full,
    /// compacting collection is not free, and a daemon doing little allocates little.</summary>
    private const long GiveBackAfterAllocating = 8 << 20;

    private long _allocatedAtGiveBack;

    private bool HasMemoryToGiveBack => GC.GetTotalAllocatedBytes() - _allocatedAtGiveBack > GiveBackAfterAllocating;

    /// <summary>
    /// After a burst (a thousand enqueues, a flood of output) the GC keeps the memory the
    /// burst's garbage took, ready for the next one: for a daemon that may then sit idle
    /// for hours that is memory taken from the jobs for nothing. Once things are quiet, an
    /// aggressive full collection compacts what is live and returns the rest to the
    /// system (with 10 000 queued jobs: about 85 MB resident before, 62 MB after).
    /// </summary>
    private void GiveBackMemory()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        _allocatedAtGiveBack = GC.GetTotalAllocatedBytes();
    }

    private void RunPosted()
    {
        // Bounded so that a flood of posts cannot starve descriptors and timers.
        int budget = 1024;
        while (budget-- > 0 && _posted.TryDequeue(out var action)) Guard(action);
    }

    private void RunDueTimers()
    {
        var now = _clock.Now;
        int budget = 4096;
        while (budget-- > 0 && _timers.TakeDue(now) is { } entry) Guard(entry.Callback);
    }

    /// <summary>A bug in one handler must not take the daemon down: log it and go on.</summary>
    private void Guard(Action action)
    {
        try { action(); }
        catch (Exception e) { _log.LogError(e, "internal error in event loop handler"); }
    }

    public void Dispose()
    {
        Syscall.close(_wakeFd);
        Syscall.close(_wallTimerFd);
        Syscall.close(_epoll);
    }
}
