using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>prctl(2), which Mono.Posix does not cover.</summary>
internal static partial class Prctl
{
    private const int PR_SET_CHILD_SUBREAPER = 36;

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>Orphans of our jobs (double-forked daemons and the like) are reparented to
    /// us instead of to init, so we reap them and can kill them at shutdown. Errno text
    /// on failure.</summary>
    public static string? BecomeSubreaper() =>
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? null : Errno.Text(Errno.Last);
}
