namespace Chaqum.History;

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

    /// <summary>Pids of our children: processes whose parent is this process (scans /proc).</summary>
    public static List<int> Children(int parent) => All().Where(pid => Field(pid, 4) == parent).ToList();

    /// <summary>Pids of the processes in a process group (scans /proc).</summary>
    public static List<int> GroupMembers(int pgid) => All().Where(pid => Field(pid, 5) == pgid).ToList();
}
