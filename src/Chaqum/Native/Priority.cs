using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>setpriority(2) for a whole process group (renice); not in Mono.Posix.</summary>
internal static partial class Priority
{
    private const int PRIO_PGRP = 1;

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);

    /// <summary>Sets the nice value of every process in the group; errno text on failure.</summary>
    public static string? SetGroup(int pgid, int nice)
    {
        if (setpriority(PRIO_PGRP, pgid, nice) == 0) return null;
        return Errno.Text(Errno.Last);
    }
}
