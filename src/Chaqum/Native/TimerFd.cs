using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>timerfd(2) on CLOCK_REALTIME with TFD_TIMER_ABSTIME|TFD_TIMER_CANCEL_ON_SET:
/// cron firings follow the wall clock exactly, and a clock jump wakes us (ECANCELED)
/// so the next firing is recomputed instead of fired in a burst. Not in Mono.Posix.</summary>
internal static unsafe partial class TimerFd
{
    private const int CLOCK_REALTIME = 0;
    private const int TFD_CLOEXEC = 0x80000;
    private const int TFD_NONBLOCK = 0x800;
    private const int TFD_TIMER_ABSTIME = 1;
    private const int TFD_TIMER_CANCEL_ON_SET = 2;
    public const int ECANCELED = 125;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Sec; public long Nsec; }

    [StructLayout(LayoutKind.Sequential)]
    private struct ITimerSpec { public TimeSpec Interval; public TimeSpec Value; }

    [LibraryImport("libc", EntryPoint = "timerfd_create", SetLastError = true)]
    private static partial int timerfd_create(int clockid, int flags);

    [LibraryImport("libc", EntryPoint = "timerfd_settime", SetLastError = true)]
    private static partial int timerfd_settime(int fd, int flags, ITimerSpec* newValue, ITimerSpec* oldValue);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint read(int fd, void* buf, nint count);

    public static int CreateRealtime()
    {
        int fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
        if (fd < 0)
        {
            int errno = Errno.Last;
            throw new IOException($"timerfd_create: {Errno.Text(errno)}", errno);
        }
        return fd;
    }

    /// <summary>Arms the timer at an absolute wall-clock time, or disarms it when null.</summary>
    public static void ArmAt(int fd, DateTimeOffset? when)
    {
        ITimerSpec spec = default;
        if (when is { } at)
        {
            long ticks = Math.Max(at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks, 1);
            spec.Value.Sec = ticks / TimeSpan.TicksPerSecond;
            spec.Value.Nsec = ticks % TimeSpan.TicksPerSecond * 100;
            if (spec.Value.Sec == 0 && spec.Value.Nsec == 0) spec.Value.Nsec = 1;
        }
        timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, null);
    }

    /// <summary>Consumes the expiry; true when the wall clock was set (ECANCELED).</summary>
    public static bool Acknowledge(int fd)
    {
        ulong expirations;
        nint n = read(fd, &expirations, sizeof(ulong));
        return n < 0 && Errno.Last == ECANCELED;
    }
}
