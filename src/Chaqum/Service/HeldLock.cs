using Chaqum.Native;
using Mono.Unix.Native;

namespace Chaqum.Service;

/// <summary>
/// A write lock (fcntl F_SETLK) on a whole file, held until disposed. The kernel drops it
/// when the process ends, however it ends, so a crash never leaves a stale lock behind,
/// and the file is never removed: removing a lock file while another process waits on it
/// would let two hold "the" lock. The lock itself tells a second process who holds it
/// (F_GETLK); the file also names the pid, for people.
/// </summary>
public sealed class HeldLock : IDisposable
{
    private int _fd;

    private HeldLock(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Takes the lock on path (created 0644 if missing), or returns null with the
    /// holder's pid (0 if unknown). Only a regular file is used: a symlink planted at path
    /// would otherwise have us create, lock and overwrite whatever it points to.</summary>
    /// <exception cref="IOException">The file cannot be opened or locked, or is no regular file.</exception>
    public static HeldLock? TryTake(string path, out int holder)
    {
        holder = 0;
        int fd = Files.OpenAt(Files.AT_FDCWD, path, Files.O_RDWR | Files.O_CREAT | Files.O_NOFOLLOW | Files.O_CLOEXEC, 0b110_100_100);
        if (fd < 0)
        {
            int errno = Native.Errno.Last;
            throw new IOException(errno == Files.ELOOP
                ? $"{path} is a symbolic link; refusing to use it as a lock file"
                : $"cannot open {path}: {Native.Errno.Text(errno)}");
        }
        if (Syscall.fstat(fd, out var st) != 0 || (st.st_mode & FilePermissions.S_IFMT) != FilePermissions.S_IFREG)
        {
            Syscall.close(fd);
            throw new IOException($"{path} is not a regular file; refusing to use it as a lock file");
        }

        var whole = new Flock { l_type = LockType.F_WRLCK, l_whence = SeekFlags.SEEK_SET, l_start = 0, l_len = 0 };
        if (Syscall.fcntl(fd, FcntlCommand.F_SETLK, ref whole) < 0)
        {
            var errno = Stdlib.GetLastError();
            var probe = new Flock { l_type = LockType.F_WRLCK, l_whence = SeekFlags.SEEK_SET };
            holder = Syscall.fcntl(fd, FcntlCommand.F_GETLK, ref probe) == 0 ? probe.l_pid : 0;
            Syscall.close(fd);
            if (errno is Mono.Unix.Native.Errno.EAGAIN or Mono.Unix.Native.Errno.EACCES) return null;
            throw new IOException($"cannot lock {path}: {Stdlib.strerror(errno)}");
        }
        return new HeldLock(fd, path);
    }

    /// <summary>Writes our pid into the file; null, or why it could not. The pid is written
    /// over the old content before the file is cut to its length (not cut first): on a full
    /// disk the block a previous pid used is still there to take the new one.</summary>
    public string? WritePid()
    {
        var text = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n");
        long written;
        unsafe
        {
            fixed (byte* p = text) written = Syscall.pwrite(_fd, p, (ulong)text.Length, 0);
        }
        if (written != text.Length)
            return written < 0 ? Stdlib.strerror(Stdlib.GetLastError()) : "short write";
        return Syscall.ftruncate(_fd, text.Length) == 0 ? null : Stdlib.strerror(Stdlib.GetLastError());
    }

    public void Dispose()
    {
        if (_fd < 0) return;
        Syscall.close(_fd);
        _fd = -1;
    }
}
