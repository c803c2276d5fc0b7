using Chaqum.Native;
using Mono.Unix.Native;

namespace Chaqum.Processes;

/// <summary>
/// A job's script, opened and checked again at the moment it is spawned. The check at
/// enqueue (<see cref="JobTree.Resolve"/>) answers the job at once, but a queued job or a
/// repeat may wait for hours, and whoever can write in the tree could meanwhile replace the
/// script, or a directory on its path, by a symlink that leads out. So the spawn walks the
/// path the enqueue resolved one component at a time from a descriptor of the tree root,
/// following no symlink (O_PATH|O_NOFOLLOW), checks that the end is an executable regular
/// file, and the job is exec'd through that descriptor (see <see cref="Spawner"/>): what
/// was checked is what runs, with no name looked up again in between.
/// </summary>
internal sealed class OpenedScript : IDisposable
{
    private OpenedScript(int fd, bool interpreted)
    {
        Fd = fd;
        Interpreted = interpreted;
    }

    /// <summary>An O_PATH, close-on-exec descriptor of the script.</summary>
    public int Fd { get; private set; }

    /// <summary>Starts with "#!". Its interpreter opens the script by the name the kernel
    /// hands it, after exec; so for these the descriptor must survive the exec.</summary>
    public bool Interpreted { get; }

    /// <summary>Opens `relative` (symlink-free, as resolved at enqueue) beneath rootFd.
    /// Null when it cannot be run: then refusal says why (the tree changed), or refusal is
    /// null and errno tells a resource shortage (EMFILE, ENOMEM...) worth a retry.</summary>
    public static OpenedScript? Open(int rootFd, string relative, out string? refusal, out int errno)
    {
        refusal = null;
        errno = 0;
        int fd = rootFd;
        var parts = relative.Split('/');
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            if (part is "" or "." or "..")
            {
                Close(fd, rootFd);
                refusal = $"'{relative}' is not a plain path inside the job tree";
                return null;
            }
            bool last = i == parts.Length - 1;
            int next = Files.OpenAt(fd, part, Files.O_PATH | Files.O_NOFOLLOW | Files.O_CLOEXEC | (last ? 0 : Files.O_DIRECTORY));
            errno = Native.Errno.Last;
            Close(fd, rootFd);
            if (next < 0)
            {
                refusal = errno switch
                {
                    Native.Errno.ENOENT => $"'{relative}' no longer exists",
                    Files.ENOTDIR or Files.ELOOP => $"'{string.Join('/', parts[..(i + 1)])}' on the path of '{relative}' " +
                        "is no longer a directory (a symbolic link?)",
                    Native.Errno.EACCES => $"'{relative}': {Native.Errno.Text(errno)}",
                    _ => null,
                };
                return null;
            }
            fd = next;
        }

        refusal = Check(fd, relative);
        if (refusal is not null)
        {
            Syscall.close(fd);
            return null;
        }
        // Above the child's fd 5, which the spawn closes before reopening the script there.
        try { fd = Pipes.MoveAbove(fd, Spawner.ScriptFd + 1); }
        catch (IOException e)
        {
            errno = e.HResult;
            return null;
        }
        return new OpenedScript(fd, StartsWithHashBang(fd));
    }

    /// <summary>What the end of the walk must be: an executable regular file.</summary>
    private static string? Check(int fd, string relative)
    {
        if (Syscall.fstat(fd, out var st) != 0)
            return $"cannot stat '{relative}': {Stdlib.strerror(Stdlib.GetLastError())}";
        var type = st.st_mode & FilePermissions.S_IFMT;
        if (type == FilePermissions.S_IFLNK) return $"'{relative}' is now a symbolic link";
        if (type != FilePermissions.S_IFREG) return $"'{relative}' is not a regular file";
        // access(2) through the descriptor's magic link judges the very inode we hold.
        if (Syscall.access(ProcSelfFd(fd), AccessModes.X_OK) != 0) return $"'{relative}' is not executable";
        return null;
    }

    private static bool StartsWithHashBang(int fd)
    {
        // Reopened for reading through the magic link (the same inode, no name lookup). A
        // file we may execute but not read is no script: its interpreter could not read it.
        int readable = Files.OpenAt(Files.AT_FDCWD, ProcSelfFd(fd), Files.O_RDONLY | Files.O_CLOEXEC);
        if (readable < 0) return false;
        try
        {
            unsafe
            {
                byte* head = stackalloc byte[2];
                return Syscall.pread(readable, head, 2, 0) == 2 && head[0] == '#' && head[1] == '!';
            }
        }
        finally { Syscall.close(readable); }
    }

    public static string ProcSelfFd(int fd) => "/proc/self/fd/" + fd.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void Close(int fd, int rootFd)
    {
        if (fd != rootFd) Syscall.close(fd);
    }

    public void Dispose()
    {
        if (Fd < 0) return;
        Syscall.close(Fd);
        Fd = -1;
    }
}
