using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>eventfd(2), not covered by Mono.Posix: the event loop's wake-up doorbell.</summary>
internal static partial class EventFd
{
    private const int EFD_CLOEXEC = 0x80000;
    private const int EFD_NONBLOCK = 0x800;

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint write(int fd, void* buf, nint count);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint read(int fd, void* buf, nint count);

    public static int Create()
    {
        int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0)
        {
            int errno = Errno.Last;
            throw new IOException($"eventfd: {Errno.Text(errno)}", errno);
        }
        return fd;
    }

    public static unsafe void Signal(int fd)
    {
        ulong one = 1;
        // EAGAIN only when the counter would overflow: the loop is awake anyway.
        write(fd, &one, sizeof(ulong));
    }

    public static unsafe void Drain(int fd)
    {
        ulong value;
        read(fd, &value, sizeof(ulong));
    }
}
