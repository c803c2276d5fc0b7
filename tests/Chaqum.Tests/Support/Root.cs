namespace Chaqum.Tests.Support;

/// <summary>Tests that need root (mounts, cgroups, other uids, a reduced bounding set) skip
/// with the reason when run by anyone else; CI runs as root, so there they always run.</summary>
public static class Root
{
    public static bool IsRoot => Mono.Unix.Native.Syscall.geteuid() == 0;

    /// <summary>Skips the calling test, saying why it needs root, unless it runs as root.</summary>
    public static void Require(string why)
    {
        if (!IsRoot) Assert.Ignore($"needs root: {why}");
    }
}
