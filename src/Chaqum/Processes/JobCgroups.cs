using System.Globalization;
using System.Text;
using Chaqum.Native;
using Microsoft.Extensions.Logging;
using Mono.Unix.Native;
using Errno = Mono.Unix.Native.Errno;

namespace Chaqum.Processes;

/// <summary>
/// One cgroup (v2) per job, where the daemon may create them: a job's processes cannot
/// leave it (a process group or a session can be left by anyone; a cgroup only by a
/// process with write access to another cgroup, i.e. root), so enumerating and killing a
/// job's processes does not depend on the job's good manners.
///
/// Layout: under the daemon's own cgroup (found in /proc/self/cgroup, on the cgroup2
/// mount found in /proc/self/mountinfo), a directory chaqum-PID-START for this daemon
/// (its pid and start time: unique, and a later start can tell a dead daemon's from a
/// live one's), and in it job-N.A for attempt A of the job numbered N. Under systemd,
/// the unit needs Delegate=yes for the daemon to own that subtree. No controller is
/// enabled (so the daemon may stay where it is: the no-internal-processes rule only
/// binds cgroups that distribute controllers); only cgroup.procs and cgroup.kill are used.
///
/// The window: posix_spawn cannot start a child inside a cgroup (clone3's
/// CLONE_INTO_CGROUP is not offered by glibc 2.36's posix_spawn), so the pid is written
/// into the job's cgroup.procs right after the spawn returns. Whatever the job forks in
/// those microseconds stays in the daemon's cgroup; killing a job therefore also sweeps
/// its descendants and the daemon's orphans carrying its CHAQUM_IDENT (see JobRunner).
/// </summary>
public sealed class JobCgroups : IDisposable
{
    private readonly ILogger _log;
    private bool _failing;

    private JobCgroups(string root, ILogger log)
    {
        Root = root;
        _log = log;
    }

    /// <summary>This daemon's directory: chaqum-PID-START under its own cgroup.</summary>
    public string Root { get; }

    /// <summary>The daemon's subtree, created; null (logged) where no writable cgroup2
    /// is to be had: then jobs are followed through their descendants and the environment
    /// mark only.</summary>
    public static JobCgroups? Create(ILogger log)
    {
        // CHAQUM_CGROUPS=off: the way without cgroups, on purpose (tests of it, or a
        // cgroup tree that something else manages).
        if (Environment.GetEnvironmentVariable("CHAQUM_CGROUPS") == "off")
        {
            log.LogInformation("CHAQUM_CGROUPS=off: jobs are followed through their process trees");
            return null;
        }
        string? own = OwnCgroup();
        if (own is null)
        {
            log.LogInformation("no cgroup v2 hierarchy: jobs are followed through their process trees");
            return null;
        }
        RemoveStale(own);
        int self = Environment.ProcessId;
        string root = Path.Combine(own, $"chaqum-{self}-{ProcStat.StartTicks(self) ?? 0}");
        if (Syscall.mkdir(root, FilePermissions.S_IRWXU) != 0 && Stdlib.GetLastError() is var e && e != Errno.EEXIST)
        {
            log.LogInformation("cannot create a cgroup under {Own} ({Error}; under systemd, set Delegate=yes): " +
                "jobs are followed through their process trees", own, Stdlib.strerror(e));
            return null;
        }
        log.LogDebug("job cgroups under {Root}", root);
        return new JobCgroups(root, log);
    }

    /// <summary>Creates the job's cgroup and moves pid into it. Null (logged once) on
    /// failure; the job then runs in the daemon's cgroup.</summary>
    public string? Enter(string name, int pid)
    {
        string dir = Path.Combine(Root, name);
        string? error = null;
        if (Syscall.mkdir(dir, FilePermissions.S_IRWXU) != 0 && Stdlib.GetLastError() is var e && e != Errno.EEXIST)
            error = $"mkdir {dir}: {Stdlib.strerror(e)}";
        else if (Write(Path.Combine(dir, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture)) is { } writeError)
        {
            error = $"{dir}/cgroup.procs: {writeError}";
            Syscall.rmdir(dir);
        }
        if (error is null)
        {
            _failing = false;
            return dir;
        }
        if (!_failing) _log.LogWarning("cannot put a job in a cgroup of its own ({Error}); followed through its process tree", error);
        _failing = true;
        return null;
    }

    /// <summary>The pids in a cgroup (empty when it is gone).</summary>
    public static List<int> Procs(string dir)
    {
        var pids = new List<int>();
        try
        {
            foreach (var line in File.ReadAllLines(Path.Combine(dir, "cgroup.procs")))
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) pids.Add(pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return pids;
    }

    /// <summary>SIGKILL to everything in the cgroup at once, with cgroup.kill (Linux 5.14),
    /// which also catches what forks meanwhile; on older kernels, to each member.</summary>
    public static void Kill(string dir)
    {
        if (Write(Path.Combine(dir, "cgroup.kill"), "1") is null) return;
        foreach (int pid in Procs(dir)) Signals.Process(pid, Signals.SIGKILL);
    }

    /// <summary>Removes an empty cgroup; false while processes are left in it (EBUSY).</summary>
    public static bool Remove(string dir) => Syscall.rmdir(dir) == 0 || Stdlib.GetLastError() == Errno.ENOENT;

    /// <summary>Whether path is a job cgroup this program made: job-N.A under chaqum-PID-START
    /// on a cgroup2 mount. What a journal says is checked before anything in it is killed.</summary>
    public static bool IsJobCgroup(string path) =>
        Path.GetFileName(path).StartsWith("job-", StringComparison.Ordinal)
        && Path.GetDirectoryName(path) is { } parent && IsDaemonDirectory(parent);

    /// <summary>Whether path is a daemon's chaqum-PID-START directory on a cgroup2 mount.</summary>
    public static bool IsDaemonDirectory(string path) =>
        DaemonDirectory(Path.GetFileName(path)) is not null && !path.Contains("/../", StringComparison.Ordinal)
        && Cgroup2Mounts().Any(m => path.StartsWith(m + "/", StringComparison.Ordinal));

    /// <summary>The job cgroups in a daemon's directory.</summary>
    public static List<string> JobDirectories(string daemonDirectory)
    {
        try { return Directory.EnumerateDirectories(daemonDirectory, "job-*").ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new(); }
    }

    /// <summary>Whether the daemon that made a chaqum-PID-START directory still runs.</summary>
    public static bool OwnerAlive(string daemonDirectory) =>
        DaemonDirectory(Path.GetFileName(daemonDirectory)) is { } o && ProcStat.StartTicks(o.Pid) == o.Start;

    private static (int Pid, long Start)? DaemonDirectory(string name)
    {
        var parts = name.Split('-');
        return parts.Length == 3 && parts[0] == "chaqum"
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long start)
            ? (pid, start) : null;
    }

    /// <summary>Directories of daemons that are gone (crashed, or killed before they could
    /// tidy up): their empty job cgroups and themselves are removed. Populated ones stay:
    /// the crashed daemon's next start kills what is in them (crash recovery).</summary>
    private static void RemoveStale(string own)
    {
        try
        {
            foreach (var dir in Directory.EnumerateDirectories(own, "chaqum-*"))
            {
                if (DaemonDirectory(Path.GetFileName(dir)) is null || OwnerAlive(dir)) continue;
                foreach (var job in JobDirectories(dir)) Remove(job);
                Remove(dir);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The directory of this process's cgroup on the cgroup2 mount, if any.</summary>
    private static string? OwnCgroup()
    {
        string? path = null;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/cgroup"))
                if (line.StartsWith("0::", StringComparison.Ordinal)) path = line[3..];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        if (path is null || path.EndsWith(" (deleted)", StringComparison.Ordinal)) return null;
        foreach (var (mount, root) in Cgroup2MountsWithRoots())
        {
            // Inside a cgroup namespace the mount's root and our path are both relative to
            // the namespace; outside, the mount's root is "/" (or the part it shows).
            if (root == "/") return mount + (path == "/" ? "" : path);
            if (path == root || path.StartsWith(root + "/", StringComparison.Ordinal)) return mount + path[root.Length..];
        }
        return null;
    }

    private static IEnumerable<string> Cgroup2Mounts() => Cgroup2MountsWithRoots().Select(m => m.Mount);

    /// <summary>cgroup2 mounts from /proc/self/mountinfo: (mount point, root within the hierarchy).</summary>
    private static List<(string Mount, string Root)> Cgroup2MountsWithRoots()
    {
        var mounts = new List<(string, string)>();
        try
        {
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
                int dash = line.IndexOf(" - ", StringComparison.Ordinal);
                if (dash < 0 || !line.AsSpan(dash + 3).StartsWith("cgroup2 ")) continue;
                var fields = line[..dash].Split(' ');
                if (fields.Length >= 5) mounts.Add((Unescape(fields[4]), Unescape(fields[3])));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return mounts;
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as \ooo.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\')) return field;
        var sb = new StringBuilder();
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length)
            {
                sb.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else sb.Append(field[i]);
        }
        return sb.ToString();
    }

    /// <summary>Writes text to a cgroup file with one write(2); the errno text on failure.</summary>
    private static unsafe string? Write(string path, string text)
    {
        int fd = Syscall.open(path, OpenFlags.O_WRONLY | OpenFlags.O_CLOEXEC);
        if (fd < 0) return Stdlib.strerror(Stdlib.GetLastError());
        var bytes = Encoding.ASCII.GetBytes(text);
        long n;
        fixed (byte* p = bytes) n = Syscall.write(fd, p, (ulong)bytes.Length);
        string? error = n < 0 ? Stdlib.strerror(Stdlib.GetLastError()) : null;
        Syscall.close(fd);
        return error;
    }

    /// <summary>At exit (every job cgroup removed by then): the daemon's directory.</summary>
    public void Dispose()
    {
        foreach (var job in Directory.Exists(Root) ? Directory.EnumerateDirectories(Root) : Array.Empty<string>()) Remove(job);
        if (!Remove(Root)) _log.LogWarning("cannot remove cgroup {Root}: processes are left in it", Root);
    }
}
