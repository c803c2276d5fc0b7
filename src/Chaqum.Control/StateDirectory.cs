using System.Security.Cryptography;
using System.Text;

namespace Chaqum.Control;

/// <summary>
/// Where a tree's durable state lives (job id counter, and later history and crash
/// records): --state-dir, else $STATE_DIRECTORY (systemd's StateDirectory=), else
/// $XDG_STATE_HOME/chaqum/KEY, else ~/.local/state/chaqum/KEY. KEY names the tree
/// stably: its directory name and a hash of its canonical path.
/// </summary>
public static class StateDirectory
{
    public static string Resolve(string? explicitDir, string treeRoot)
    {
        if (!string.IsNullOrEmpty(explicitDir)) return Path.GetFullPath(explicitDir);
        var systemd = Environment.GetEnvironmentVariable("STATE_DIRECTORY");
        if (!string.IsNullOrEmpty(systemd)) return systemd.Split(':')[0];
        var xdg = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        var home = Environment.GetEnvironmentVariable("HOME");
        string baseDir = !string.IsNullOrEmpty(xdg) ? xdg
            : Path.Combine(string.IsNullOrEmpty(home) ? "/tmp" : home, ".local", "state");
        return Path.Combine(baseDir, "chaqum", TreeKey(treeRoot));
    }

    /// <summary>"NAME-HASH": readable, and unique per canonical tree path.</summary>
    public static string TreeKey(string treeRoot)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(treeRoot));
        string name = Path.GetFileName(treeRoot.TrimEnd('/'));
        var safe = new StringBuilder();
        foreach (char c in name) safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        if (safe.Length == 0) safe.Append("root");
        if (safe.Length > 32) safe.Length = 32;
        return $"{safe}-{Convert.ToHexStringLower(hash)[..12]}";
    }

    /// <summary>Creates the directory (0700) if needed.</summary>
    public static void Ensure(string dir)
    {
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
