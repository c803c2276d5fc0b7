using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>inotify(7), not covered by Mono.Posix: file triggers (repeat -w). One
/// non-blocking descriptor, watched by the event loop like any other.</summary>
internal static unsafe partial class Inotify
{
    public const uint IN_CLOSE_WRITE = 0x00000008;
    public const uint IN_MOVED_TO = 0x00000080;
    public const uint IN_CREATE = 0x00000100;
    public const uint IN_Q_OVERFLOW = 0x00004000;
    public const uint IN_IGNORED = 0x00008000;
    public const uint IN_ONLYDIR = 0x01000000;
    public const uint IN_DONT_FOLLOW = 0x02000000;
    public const uint IN_EXCL_UNLINK = 0x04000000;
    public const uint IN_ISDIR = 0x40000000;

    private const int IN_CLOEXEC = 0x80000;
    private const int IN_NONBLOCK = 0x800;

    public const int ENOTDIR = 20;
    public const int ENOSPC = 28;

    /// <summary>struct inotify_event without its name: wd, mask, cookie, len.</summary>
    public const int HeaderSize = 16;

    [LibraryImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    private static partial int inotify_init1(int flags);

    [LibraryImport("libc", EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int inotify_add_watch(int fd, string path, uint mask);

    [LibraryImport("libc", EntryPoint = "inotify_rm_watch", SetLastError = true)]
    private static partial int inotify_rm_watch(int fd, int wd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint read(int fd, byte* buf, nint count);

    public static int Create()
    {
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0)
        {
            int errno = Errno.Last;
            throw new IOException($"inotify_init1: {Errno.Text(errno)}", errno);
        }
        return fd;
    }

    /// <summary>The watch descriptor, or -errno.</summary>
    public static int AddWatch(int fd, string path, uint mask)
    {
        int wd = inotify_add_watch(fd, path, mask);
        return wd >= 0 ? wd : -Errno.Last;
    }

    public static void RemoveWatch(int fd, int wd) => inotify_rm_watch(fd, wd);

    /// <summary>Bytes read into buffer; 0 when nothing is waiting (EAGAIN) or on error.</summary>
    public static int Read(int fd, byte[] buffer)
    {
        fixed (byte* b = buffer)
        {
            while (true)
            {
                nint n = read(fd, b, buffer.Length);
                if (n >= 0) return (int)n;
                if (Errno.Last != Errno.EINTR) return 0;
            }
        }
    }
}
