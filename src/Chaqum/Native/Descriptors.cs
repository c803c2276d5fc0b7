using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>
/// How close the daemon is to its descriptor limit (RLIMIT_NOFILE). Each running job holds
/// four pipes and soon an output file; if jobs took the last descriptors, the .NET runtime
/// could no longer load an assembly or open SQLite, and a type initializer failing that
/// way breaks the process for good. So spawning stops short of the limit and leaves a
/// reserve for the daemon itself; the job waits and is retried like any EMFILE.
/// </summary>
internal static partial class Descriptors
{
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int close(int fd);

    private const int F_DUPFD_CLOEXEC = 1030;

    /// <summary>The soft limit on open descriptors.</summary>
    public static long Limit => Math.Min(ResourceLimits.Soft(ResourceLimits.RLIMIT_NOFILE) ?? int.MaxValue, int.MaxValue);

    /// <summary>The lowest free descriptor number (the kernel hands out the lowest, so this
    /// is about how many are open); -1 when none is free at all.</summary>
    public static int LowestFree()
    {
        int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) return -1;
        close(fd);
        return fd;
    }

    /// <summary>Would `needed` more descriptors eat into a reserve of `reserve`, given the
    /// limit (<see cref="Limit"/>, read once by the caller)?</summary>
    public static bool Short(int needed, int reserve, long limit)
    {
        int lowest = LowestFree();
        return lowest < 0 || lowest + needed + reserve > limit;
    }
}
