using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>wait4(2): Mono.Posix has waitpid but not wait4, and we want each job's rusage.</summary>
public static unsafe partial class Wait
{
    public const int WNOHANG = 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
        public readonly TimeSpan ToTimeSpan() => TimeSpan.FromTicks(Seconds * TimeSpan.TicksPerSecond + Microseconds * 10);
    }

    /// <summary>struct rusage (144 bytes on x86_64 Linux); we read the first fields only.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    public struct RUsage
    {
        public TimeVal UserTime;
        public TimeVal SystemTime;
        public long MaxRssKilobytes;
    }

    [LibraryImport("libc", EntryPoint = "wait4", SetLastError = true)]
    private static partial int wait4(int pid, out int status, int options, out RUsage rusage);

    /// <summary>Reaps one child without blocking. Returns its pid, 0 when children exist
    /// but none has exited, or -1 with ECHILD when there are no children at all.</summary>
    public static int ReapAny(out int status, out RUsage rusage, out int errno)
    {
        while (true)
        {
            int pid = wait4(-1, out status, WNOHANG, out rusage);
            errno = pid < 0 ? Errno.Last : 0;
            if (pid < 0 && errno == Errno.EINTR) continue;
            return pid;
        }
    }

    public static bool Exited(int status) => (status & 0x7f) == 0;
    public static int ExitCode(int status) => (status >> 8) & 0xff;
    public static bool Signaled(int status) => ((status & 0x7f) + 1) >> 1 > 0 && (status & 0x7f) != 0x7f;
    public static int TermSignal(int status) => status & 0x7f;
}
