using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>
/// openat(2) and renameat2(2) with the kernel's own flag values. The spawn-time check of a job's script
/// needs O_PATH (a handle on a file that need not be readable, e.g. an execute-only
/// binary, and that opens nothing: no FIFO blocks, no device acts) and O_NOFOLLOW on
/// every component; Mono.Posix translates OpenFlags through its helper library, which
/// would turn a flag it does not map into EINVAL, so the values are passed as they are.
/// </summary>
internal static partial class Files
{
    public const int AT_FDCWD = -100;
    public const int O_RDONLY = 0;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;

    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;

    /// <summary>openat without O_CREAT (so without a mode); -1 and errno on failure.</summary>
    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(int dirfd, string path, int flags);

    /// <summary>openat with O_CREAT and the new file's mode.</summary>
    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(int dirfd, string path, int flags, int mode);

    public const uint RENAME_NOREPLACE = 1;

    /// <summary>renameat2(2) (glibc 2.28): with RENAME_NOREPLACE it fails with EEXIST rather
    /// than replace whatever appeared at the new name.</summary>
    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RenameAt2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);
}
