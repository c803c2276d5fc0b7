using System.Collections;

namespace Chaqum.Processes;

/// <summary>The environment every job starts with: the daemon's own (minus any CHAQUM_*
/// it inherited, say from running inside another tree's job), plus CHAQUM_TREE, and
/// CHAQUM_LIBDIR with the Python and Perl libraries appended to PYTHONPATH and PERL5LIB
/// so that "import chaqum" and "use Chaqum;" just work.</summary>
public static class JobEnvironment
{
    /// <summary>systemd talks to the daemon through these; a job that inherited them could
    /// pose as the daemon (NOTIFY_SOCKET) or believe its pipes were the journal.</summary>
    private static readonly HashSet<string> ForDaemonOnly = new(StringComparer.Ordinal)
    {
        "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
    };

    /// <summary>Where the client libraries are: next to the executable (copied there by
    /// the build and by publish).</summary>
    public static string? LibraryDirectory()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "clients");
        return Directory.Exists(dir) ? dir : null;
    }

    public static List<KeyValuePair<string, string>> Base(string treeRoot, string? controlSocket = null)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            var key = (string)e.Key;
            if (key.StartsWith("CHAQUM_", StringComparison.Ordinal) || ForDaemonOnly.Contains(key)) continue;
            env[key] = (string?)e.Value ?? "";
        }
        env["CHAQUM_TREE"] = treeRoot;
        if (controlSocket is not null) env["CHAQUM_CONTROL"] = controlSocket;
        if (LibraryDirectory() is { } lib)
        {
            env["CHAQUM_LIBDIR"] = lib;
            Append(env, "PYTHONPATH", Path.Combine(lib, "python"));
            Append(env, "PERL5LIB", Path.Combine(lib, "perl"));
        }
        return env.ToList();
    }

    /// <summary>Appends (never prepends): a tree that brings its own copy wins.</summary>
    private static void Append(Dictionary<string, string> env, string name, string dir)
    {
        env[name] = env.TryGetValue(name, out var existing) && existing.Length > 0 ? existing + ":" + dir : dir;
    }
}
