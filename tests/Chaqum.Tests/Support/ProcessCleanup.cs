namespace Chaqum.Tests.Support;

/// <summary>Leaves no process behind: finds every process whose environment names the
/// test tree (CHAQUM_TREE=root, set by the daemon for every job and inherited by their
/// children) and SIGKILLs it.</summary>
public static class ProcessCleanup
{
    public static int KillTreeProcesses(string treeRoot)
    {
        var marker = System.Text.Encoding.UTF8.GetBytes("CHAQUM_TREE=" + treeRoot + "\0");
        int killed = 0;
        for (int round = 0; round < 5; round++)
        {
            var pids = Find(marker);
            if (pids.Count == 0) break;
            foreach (int pid in pids)
            {
                if (Native.kill(pid, 9) == 0) killed++;
            }
            Thread.Sleep(20);
        }
        return killed;
    }

    public static List<int> Find(byte[] marker)
    {
        var result = new List<int>();
        int self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == self) continue;
            byte[] env;
            try { env = File.ReadAllBytes(Path.Combine(dir, "environ")); }
            catch (Exception) { continue; }
            if (env.AsSpan().IndexOf(marker) >= 0 || (env.Length > 0 && env.AsSpan().StartsWith(marker.AsSpan(0, marker.Length))))
                result.Add(pid);
        }
        return result;
    }

    /// <summary>Pids of live processes whose environment names the tree.</summary>
    public static List<int> Living(string treeRoot)
    {
        var marker = System.Text.Encoding.UTF8.GetBytes("CHAQUM_TREE=" + treeRoot + "\0");
        return Find(marker).Where(pid => !IsZombie(pid)).ToList();
    }

    public static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] == 'Z';
        }
        catch (Exception) { return true; }
    }

    public static bool Alive(int pid) => Native.kill(pid, 0) == 0 && !IsZombie(pid);
}

internal static partial class Native
{
    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int sig);
}
