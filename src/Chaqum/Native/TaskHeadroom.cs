using Microsoft.Win32.SafeHandles;

namespace Chaqum.Native;

/// <summary>
/// How close the daemon is to a limit on tasks (processes and threads): its cgroup's
/// pids.max (systemd's TasksMax) and its user's RLIMIT_NPROC. When jobs take the last
/// task, the .NET runtime cannot start a thread and aborts the whole daemon ("Out of
/// memory."), so spawning stops short of either limit and leaves a reserve; the job waits
/// and is retried as on EAGAIN. (A job that forks up to the limit by itself can still
/// starve the daemon: nothing but the limit stops it.)
/// </summary>
internal static class TaskHeadroom
{
    private static readonly string? PidsDir = FindPidsCgroup();
    private static SafeFileHandle? _current, _max;
    private static readonly byte[] Buffer = new byte[64];

    // RLIMIT_NPROC: counting the user's processes means walking /proc, so far from the
    // limit the count is kept for a second, plus what we spawned since.
    private static long _userTasks;
    private static int _spawnedSince;
    private static DateTime _countedAt;

    /// <summary>Why spawning one more job would eat into the reserve, or null.</summary>
    public static string? Short(int reserve)
    {
        if (PidsDir is not null && Read(ref _max, "pids.max") is long max && Read(ref _current, "pids.current") is long current
            && current + 1 + reserve > max)
            return $"the cgroup's task limit is near ({current} of {max} in use, {reserve} kept for the daemon)";

        uint uid = Mono.Unix.Native.Syscall.getuid();
        if (uid == 0 || ResourceLimits.Soft(ResourceLimits.RLIMIT_NPROC) is not { } userMax) return null;
        // Far from the limit a count a second old will do; near it, count every time.
        bool near = _userTasks + _spawnedSince + 4 * reserve > userMax;
        if (near || DateTime.UtcNow - _countedAt > TimeSpan.FromSeconds(1))
        {
            _userTasks = CountUserTasks(uid);
            _spawnedSince = 0;
            _countedAt = DateTime.UtcNow;
        }
        long used = _userTasks + _spawnedSince;
        if (used + 2 + reserve > userMax)
            return $"the user's process limit is near (about {used} of {userMax} in use, {reserve} kept for the daemon)";
        _spawnedSince += 2; // a job is often a shell and the command it runs
        return null;
    }

    /// <summary>The pids controller's directory of our cgroup (v2 or v1), if it has one.</summary>
    private static string? FindPidsCgroup()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/cgroup"))
            {
                var parts = line.Split(':', 3);
                if (parts.Length != 3) continue;
                string dir = parts[0] == "0" && parts[1] == "" ? "/sys/fs/cgroup" + parts[2]
                    : parts[1].Split(',').Contains("pids") ? "/sys/fs/cgroup/pids" + parts[2] : "";
                if (dir != "" && File.Exists(Path.Combine(dir, "pids.max"))) return dir;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>A number from the cgroup file; null for "max" or when unreadable.</summary>
    private static long? Read(ref SafeFileHandle? handle, string name)
    {
        try
        {
            handle ??= File.OpenHandle(Path.Combine(PidsDir!, name), FileMode.Open, FileAccess.Read);
            int n = RandomAccess.Read(handle, Buffer, 0);
            return long.TryParse(System.Text.Encoding.ASCII.GetString(Buffer, 0, n).Trim(), out long v) ? v : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            handle?.Dispose();
            handle = null;
            return null;
        }
    }

    /// <summary>Tasks of the user: its processes (owners of /proc/PID), each counted with
    /// its threads when that is cheap to know (ours).</summary>
    private static long CountUserTasks(uint uid)
    {
        long count = 0;
        foreach (int pid in Processes.ProcStat.All())
            if (Mono.Unix.Native.Syscall.stat($"/proc/{pid}", out var st) == 0 && st.st_uid == uid) count++;
        // Not System.Diagnostics.Process: nothing in the daemon may use it (BannedSymbols.txt).
        return count + Directory.GetDirectories("/proc/self/task").Length;
    }
}
