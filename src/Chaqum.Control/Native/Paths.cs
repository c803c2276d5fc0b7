using System.Runtime.InteropServices;

namespace Chaqum.Control.Native;

/// <summary>realpath(3). Mono.Posix's UnixPath resolves ".." lexically, which would let
/// "link/../x" escape the tree through a symlinked directory; libc's does it right.</summary>
public static partial class Paths
{
    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void free(nint ptr);

    /// <summary>The canonical absolute path, or null with the errno when it does not resolve.</summary>
    public static string? RealPath(string path, out int errno)
    {
        nint p = realpath(path, 0);
        if (p == 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }
        errno = 0;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { free(p); }
    }
}

