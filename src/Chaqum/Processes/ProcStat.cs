namespace Chaqum.Processes;

/// <summary>Figures about a live process from /proc/PID/stat and /proc/PID/status.</summary>
public static class ProcStat
{
    /// <summary>Field 22 of /proc/PID/stat: start time in clock ticks since boot. Together
    /// with the pid it names one process for good (a reused pid has another start time).</summary>
    public static long? StartTicks(int pid) => Field(pid, 22);

    /// <summary>Field 5 of /proc/PID/stat: the process group.</summary>
    public static long? Group(int pid) => Field(pid, 5);

    /// <summary>Field 4 of /proc/PID/stat: the parent pid.</summary>
    public static int? ParentPid(int pid) => (int?)Field(pid, 4);

    /// <summary>Field 3 of /proc/PID/stat: R, S, D, Z, T...; null when the process is gone.</summary>
    public static char? State(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close + 2 < stat.Length ? stat[close + 2] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>utime + stime (fields 14, 15) in clock ticks.</summary>
    public static long? CpuTicks(int pid) => Field(pid, 14) + Field(pid, 15);

    /// <summary>Resident memory from /proc/PID/status (VmRSS), in bytes.</summary>
    public static long? RssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return null;
    }

    public const double TicksPerSecond = 100; // sysconf(_SC_CLK_TCK) on Linux

    private static long? Field(int pid, int field)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may contain spaces and parentheses: skip past its end.
            int close = stat.LastIndexOf(')');
            var rest = stat[(close + 2)..].Split(' ');
            return long.Parse(rest[field - 3]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Every pid in /proc now (processes, not threads).</summary>
    public static IEnumerable<int> All()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out int pid)) yield return pid;
    }

    /// <summary>Pids of a process's children, from /proc/PID/task/*/children (each thread
    /// has its own list: a child belongs to the thread that forked it, and an orphan to
    /// whichever thread of its subreaper took it). Empty when the process is gone.</summary>
    public static List<int> Children(int parent)
    {
        var children = new List<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{parent}/task"))
            {
                string text;
                try { text = File.ReadAllText(Path.Combine(task, "children")); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
                foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    if (int.TryParse(word, out int pid)) children.Add(pid);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return children;
    }

    /// <summary>Every descendant of a process that is still running (not a zombie), with
    /// the parent it was found under: children, their children, and so on, parents first. A process that
    /// left its process group or session is still found here; one whose parent died has
    /// been reparented to its subreaper (the daemon), so it is found from there.</summary>
    public static List<(int Pid, int Parent)> DescendantsWithParents(int root)
    {
        var found = new List<(int, int)>();
        var seen = new HashSet<int> { root };
        var next = new Queue<int>();
        next.Enqueue(root);
        while (next.Count > 0)
        {
            int parent = next.Dequeue();
            foreach (int child in Children(parent))
            {
                if (!seen.Add(child)) continue;
                next.Enqueue(child);
                if (State(child) is { } s && s != 'Z') found.Add((child, parent));
            }
        }
        return found;
    }

    /// <summary>Whether a process's environment holds the entry "NAME=VALUE" exactly
    /// (false when it cannot be read). What a job's processes inherit marks them as its own
    /// even when they left its process group; a process may rewrite its environment, so
    /// this only ever adds processes to kill, it never vouches for a stranger.</summary>
    public static bool HasEnvironment(int pid, string name, string value)
    {
        byte[] env;
        try { env = File.ReadAllBytes($"/proc/{pid}/environ"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        var entry = System.Text.Encoding.UTF8.GetBytes(name + "=" + value + "\0");
        // Each entry ends with NUL; the first has no NUL before it.
        var span = env.AsSpan();
        if (span.StartsWith(entry)) return true;
        for (int at = span.IndexOf(entry); at >= 0; )
        {
            if (span[at - 1] == 0) return true;
            int next = span[(at + 1)..].IndexOf(entry);
            at = next < 0 ? -1 : at + 1 + next;
        }
        return false;
    }

    /// <summary>Pids of the processes in a process group (scans /proc).</summary>
    public static List<int> GroupMembers(int pgid) => All().Where(pid => Field(pid, 5) == pgid).ToList();
}
