using System.Runtime.InteropServices;

namespace Chaqum.Web.Native;

/// <summary>Whether a path is a unix socket (lstat's S_IFSOCK): --listen unix:PATH replaces
/// a leftover socket, never a file, directory or symlink someone put there.</summary>
public static unsafe partial class SocketFile
{
    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int lstat(string path, byte* buffer);

    private const uint S_IFMT = 0xF000, S_IFSOCK = 0xC000;

    public static bool IsSocket(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (lstat(path, buffer) != 0) return false;
        // st_mode follows st_dev, st_ino (and st_nlink on x86_64) in struct stat.
        int offset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;
        uint mode = *(uint*)(buffer + offset);
        return (mode & S_IFMT) == S_IFSOCK;
    }
}
