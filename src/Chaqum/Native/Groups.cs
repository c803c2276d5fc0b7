using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>initgroups(3): sets the supplementary groups of a user. Mono.Posix has
/// setresuid/setresgid but nothing for supplementary groups.</summary>
internal static partial class Groups
{
    [LibraryImport("libc", EntryPoint = "initgroups", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int initgroups(string user, uint group);

    [LibraryImport("libc", EntryPoint = "setgroups", SetLastError = true)]
    private static partial int setgroups(nuint size, uint[] list);

    /// <summary>The user's own supplementary groups, or only <paramref name="gid"/> when the
    /// group was chosen explicitly. Errno text on failure.</summary>
    public static string? Set(string user, uint gid, bool onlyThisGroup)
    {
        int rc = onlyThisGroup ? setgroups(1, new[] { gid }) : initgroups(user, gid);
        return rc == 0 ? null : Errno.Text(Errno.Last);
    }
}
