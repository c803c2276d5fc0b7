using System.Runtime.InteropServices;

namespace Chaqum.Web.Native;

/// <summary>umask(2): the unix socket is created 0600 from the start (a chmod after bind
/// would leave a moment in which others could connect).</summary>
public static partial class Umask
{
    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint umask(uint mask);

    /// <summary>Sets the mask; returns the previous one.</summary>
    public static uint Set(uint mask) => umask(mask);
}
