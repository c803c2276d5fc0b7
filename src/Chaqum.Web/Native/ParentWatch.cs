using System.Runtime.InteropServices;

namespace Chaqum.Web.Native;

/// <summary>
/// Started by the daemon (chaqum --web), chaqum-web must not outlive it even when the
/// daemon dies without stopping it (kill -9, a crash): the kernel sends us SIGTERM when
/// the parent goes (PR_SET_PDEATHSIG), and a parent already gone before we asked is
/// caught by comparing getppid with the pid the daemon gave us ($CHAQUM_WEB_PARENT).
/// </summary>
public static partial class ParentWatch
{
    private const int PR_SET_PDEATHSIG = 1, SIGTERM = 15;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nint arg2, nint arg3, nint arg4, nint arg5);

    [LibraryImport("libc")]
    private static partial int getppid();

    /// <summary>False when the daemon that started us is already gone.</summary>
    public static bool Arm()
    {
        if (Environment.GetEnvironmentVariable("CHAQUM_WEB_PARENT") is not { Length: > 0 } text || !int.TryParse(text, out int parent)) return true;
        prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
        return getppid() == parent;
    }
}
