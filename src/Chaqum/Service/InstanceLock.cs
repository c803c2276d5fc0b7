using Mono.Unix.Native;

namespace Chaqum.Service;

/// <summary>
/// One daemon per tree: a write lock (fcntl F_SETLK) on STATE/lock, held for the daemon's
/// life. The kernel drops it when the process ends, however it ends, so a crash never
/// leaves a stale lock behind. The file also names the pid, for people; the lock itself
/// tells a second daemon who holds it (F_GETLK).
/// </summary>
public sealed class InstanceLock : IDisposable
{
    private int _fd;

    private InstanceLock(int fd) => _fd = fd;

    /// <summary>Takes the lock, or throws <see cref="TreeBusyException"/> naming the holder.</summary>
    public static InstanceLock Take(string stateDir, string tree)
    {
        var path = Path.Combine(stateDir, "lock");
        int fd = Syscall.open(path, OpenFlags.O_RDWR | OpenFlags.O_CREAT,
            FilePermissions.S_IRUSR | FilePermissions.S_IWUSR | FilePermissions.S_IRGRP | FilePermissions.S_IROTH);
        if (fd < 0) throw new IOException($"cannot open {path}: {Stdlib.strerror(Stdlib.GetLastError())}");
        // Not inherited by jobs: a job holding the fd would not keep the lock (fcntl locks
        // belong to the process), but it has no business with the file either.
        Syscall.fcntl(fd, FcntlCommand.F_SETFD, 1 /* FD_CLOEXEC */);

        var whole = new Flock { l_type = LockType.F_WRLCK, l_whence = SeekFlags.SEEK_SET, l_start = 0, l_len = 0 };
        if (Syscall.fcntl(fd, FcntlCommand.F_SETLK, ref whole) < 0)
        {
            var errno = Stdlib.GetLastError();
            var holder = new Flock { l_type = LockType.F_WRLCK, l_whence = SeekFlags.SEEK_SET };
            int pid = Syscall.fcntl(fd, FcntlCommand.F_GETLK, ref holder) == 0 ? holder.l_pid : 0;
            Syscall.close(fd);
            if (errno is Errno.EAGAIN or Errno.EACCES)
                throw new TreeBusyException(tree, pid, path);
            throw new IOException($"cannot lock {path}: {Stdlib.strerror(errno)}");
        }

        var text = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n");
        Syscall.ftruncate(fd, 0);
        unsafe
        {
            fixed (byte* p = text) Syscall.pwrite(fd, p, (ulong)text.Length, 0);
        }
        return new InstanceLock(fd);
    }

    public void Dispose()
    {
        if (_fd < 0) return;
        Syscall.close(_fd);
        _fd = -1;
    }
}

/// <summary>Another daemon already manages this tree.</summary>
public sealed class TreeBusyException(string tree, int pid, string lockPath)
    : Exception(pid > 0
        ? $"tree {tree} is already managed by pid {pid} (lock {lockPath})"
        : $"tree {tree} is already managed by another daemon (lock {lockPath})")
{
    public int Pid { get; } = pid;
}
