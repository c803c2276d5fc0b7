namespace Chaqum.Control;

/// <summary>
/// Where a daemon's control socket is: --control PATH, else $RUNTIME_DIRECTORY/chaqum.sock
/// (systemd's RuntimeDirectory=), else $XDG_RUNTIME_DIR/chaqum/KEY.sock, else
/// /tmp/chaqum-UID/KEY.sock; KEY names the tree (see <see cref="StateDirectory.TreeKey"/>).
/// chaqumctl uses the same rules to find the daemon of a tree.
/// </summary>
public static class ControlPaths
{
    public const string SocketName = "chaqum.sock";

    public static string Socket(string? explicitPath, string treeRoot)
    {
        if (!string.IsNullOrEmpty(explicitPath)) return Path.GetFullPath(explicitPath);
        var runtime = Environment.GetEnvironmentVariable("RUNTIME_DIRECTORY");
        if (!string.IsNullOrEmpty(runtime)) return Path.Combine(runtime.Split(':')[0], SocketName);
        return Path.Combine(UserDirectory(), StateDirectory.TreeKey(treeRoot) + ".sock");
    }

    /// <summary>The per-user directory for sockets named by tree key.</summary>
    public static string UserDirectory()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(xdg)) return Path.Combine(xdg, "chaqum");
        return $"/tmp/chaqum-{Environment.GetEnvironmentVariable("UID") ?? Uid().ToString()}";
    }

    private static uint Uid() => getuid();

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern uint getuid();
}
