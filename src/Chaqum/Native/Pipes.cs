using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>pipe2(2): Mono.Posix only offers pipe(2), which cannot set O_CLOEXEC atomically.</summary>
internal static partial class Pipes
{
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static unsafe partial int pipe2(int* fds, int flags);

    /// <summary>Creates a close-on-exec pipe; throws IOException with the errno text.</summary>
    public static unsafe (int Read, int Write) Create(int flags = 0)
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC | flags) != 0)
        {
            int errno = Errno.Last;
            throw new IOException($"pipe2: {Errno.Text(errno)}", errno);
        }
        return (fds[0], fds[1]);
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int fcntl(int fd, int cmd, int arg);

    private const int F_DUPFD_CLOEXEC = 1030;
    private const int F_GETFL = 3;
    private const int F_SETFL = 4;
    private const int F_SETPIPE_SZ = 1031;

    /// <summary>Moves fd to the lowest free descriptor >= min (closing the old one), so
    /// that the child's dup2 onto 0..4 can never clobber another source descriptor.</summary>
    public static int MoveAbove(int fd, int min)
    {
        if (fd >= min) return fd;
        int moved = fcntl(fd, F_DUPFD_CLOEXEC, min);
        if (moved < 0)
        {
            int errno = Errno.Last;
            throw new IOException($"fcntl(F_DUPFD_CLOEXEC): {Errno.Text(errno)}", errno);
        }
        Mono.Unix.Native.Syscall.close(fd);
        return moved;
    }

    /// <summary>A close-on-exec copy of fd (the lowest free number); -1 with errno set.</summary>
    public static int DupCloexec(int fd) => fcntl(fd, F_DUPFD_CLOEXEC, 0);

    /// <summary>For a pipe just made by <see cref="Create"/>, whose status flags are known
    /// to be none: one fcntl instead of a read and a write of the flags.</summary>
    public static void SetNonBlockingFresh(int fd) => fcntl(fd, F_SETFL, O_NONBLOCK);

    public static void SetNonBlocking(int fd)
    {
        int flags = fcntl(fd, F_GETFL, 0);
        if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    }

    /// <summary>Grows a pipe's buffer (best effort; the kernel caps it at pipe-max-size).</summary>
    public static void TryResize(int fd, int bytes) => fcntl(fd, F_SETPIPE_SZ, bytes);
}
