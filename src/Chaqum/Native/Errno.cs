using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>The errno values the daemon names at its call sites, and their text.</summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int ECHILD = 10;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EPIPE = 32;
    public const int ENAMETOOLONG = 36;

    /// <summary>errno of the last P/Invoke declared with SetLastError.</summary>
    public static int Last => Marshal.GetLastPInvokeError();

    public static string Text(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
