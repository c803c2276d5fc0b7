using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>pidfd_open(2) and pidfd_send_signal(2) (glibc 2.36; Mono.Posix has neither).
/// A pidfd names one process for good: once it has exited, a signal through the pidfd
/// fails with ESRCH even if its pid has been handed to another process, so what we made
/// sure was ours is the only thing a signal can reach.</summary>
internal static partial class PidFds
{
    [LibraryImport("libc", EntryPoint = "pidfd_open", SetLastError = true)]
    private static partial int pidfd_open(int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "pidfd_send_signal", SetLastError = true)]
    private static partial int pidfd_send_signal(int pidfd, int signal, nint info, uint flags);

    /// <summary>A pidfd for pid (close-on-exec, as every pidfd is); -1 if the process is
    /// gone or pidfds are unsupported, with errno.</summary>
    public static int Open(int pid, out int errno)
    {
        int fd = pid > 1 ? pidfd_open(pid, 0) : -1;
        errno = fd < 0 ? (pid > 1 ? Errno.Last : Errno.ESRCH) : 0;
        return fd;
    }

    /// <summary>Sends a signal (0: only checks that the process still exists). False when
    /// it has exited (ESRCH).</summary>
    public static bool Signal(int pidfd, int signal) => pidfd_send_signal(pidfd, signal, 0, 0) == 0;

    public static void Close(int pidfd) => Mono.Unix.Native.Syscall.close(pidfd);
}
