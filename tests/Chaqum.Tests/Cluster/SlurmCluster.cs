using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Chaqum.Tests.Cluster;

/// <summary>
/// The real two-node Slurm cluster on loopback that the tests in this namespace run
/// against (tests/cluster/slurm-up: munged, slurmctld, slurmd -N n1 and -N n2, all under
/// a private directory, $CHAQUM_SLURM_DIR or /tmp/chaqum-slurm). Brought up before the
/// first of them unless it is up already, and torn down after the last only if this
/// fixture started it and nobody else uses it then. If it cannot be brought up, every
/// cluster test fails with what slurm-up said: a cluster test that skips would hide a
/// broken executor.
///
/// The cluster is shared by every checkout and test run on the machine: from before
/// slurm-up until the end this fixture holds a shared flock on DIR/users, and slurm-down
/// (here or in another checkout) does not tear down while anyone holds it.
/// </summary>
[SetUpFixture]
public sealed partial class SlurmCluster
{
    /// <summary>SLURM_CONF for daemons under test (and scancel, squeue in the tests).</summary>
    public static string Conf { get; private set; } = "";
    private static string? _failure;
    private static FileStream? _users;
    private bool _startedHere;

    /// <summary>The cluster's directory, as slurm-up and slurm-down pick it.</summary>
    private static string Dir => System.Environment.GetEnvironmentVariable("CHAQUM_SLURM_DIR") is { Length: > 0 } dir
        ? dir : "/tmp/chaqum-slurm";

    [OneTimeSetUp]
    public void BringUp()
    {
        // The lock before slurm-up: a slurm-down that comes in between cannot tear down.
        try
        {
            _users = LockShared(Path.Combine(Dir, "users"), Deadline.Minutes(3));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException)
        {
            _failure = $"could not take the loopback Slurm cluster's shared lock: {e.Message}";
            return;
        }
        var (exit, stdout, stderr) = Run(Script("slurm-up"), new[] { Dir }, Deadline.Minutes(3));
        var conf = stdout.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("SLURM_CONF=", StringComparison.Ordinal));
        if (exit != 0 || conf is null)
        {
            _failure = $"the loopback Slurm cluster did not come up (tests/cluster/slurm-up exit {exit}):\n{stdout}\n{stderr}";
            return;
        }
        Conf = conf["SLURM_CONF=".Length..];
        // Said only by the slurm-up that started slurmctld: whoever else is using it, this
        // run is the one to offer it back to slurm-down.
        _startedHere = stderr.Contains("slurm-up: started in", StringComparison.Ordinal);
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        // Released first: slurm-down tears down only when no one holds the lock, this
        // run included; when another run or a developer holds it, the cluster stays up.
        _users?.Dispose();
        _users = null;
        if (_startedHere) Run(Script("slurm-down"), new[] { Dir }, Deadline.Minutes(1));
    }

    /// <summary>Opens PATH (creating it and its directory) and takes a shared flock on it,
    /// waiting while someone holds it exclusively (a slurm-down tearing down). Held until
    /// the stream is disposed or the process ends, and never inherited by children (.NET
    /// opens with O_CLOEXEC).</summary>
    private static FileStream LockShared(string path, TimeSpan limit)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var until = DateTime.UtcNow + limit;
        while (true)
        {
            FileStream? stream = null;
            try
            {
                // .NET takes a non-blocking shared flock of its own for FileShare.ReadWrite
                // (and throws when it is held exclusively); the explicit one below does not
                // depend on that, nor on DOTNET_SYSTEM_IO_DISABLEFILELOCKING.
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                if (flock((int)stream.SafeFileHandle.DangerousGetHandle(), LOCK_SH | LOCK_NB) == 0) return stream;
                int errno = Marshal.GetLastPInvokeError();
                stream.Dispose();
                if (errno != EWOULDBLOCK) throw new IOException($"flock {path}: errno {errno}");
            }
            catch (IOException) when (stream is null && DateTime.UtcNow < until)
            {
                // Held exclusively: .NET's own flock refused the open.
            }
            if (DateTime.UtcNow >= until)
                throw new TimeoutException($"{path} was held exclusively (a slurm-down tearing down?) for {limit.TotalSeconds:0} s");
            Thread.Sleep(200);
        }
    }

    private const int LOCK_SH = 1, LOCK_NB = 4, EWOULDBLOCK = 11;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int flock(int fd, int operation);

    /// <summary>Called first by every cluster test: fails loudly when there is no cluster.</summary>
    public static void Require()
    {
        if (_failure is not null) Assert.Fail(_failure);
        if (Conf.Length == 0) Assert.Fail("the Slurm cluster fixture did not run");
    }

    /// <summary>The environment a daemon needs to reach the cluster.</summary>
    public static Dictionary<string, string?> Environment => new() { ["SLURM_CONF"] = Conf };

    /// <summary>Slurm jobs of the tree still known to slurmctld (pending, running or completing).</summary>
    public static List<string> JobsOf(TempTree tree) => JobsOf(tree.Root);

    public static List<string> JobsOf(string root)
    {
        var (_, stdout, _) = Run("squeue", new[] { "--noheader", "--format=%i %j %T" }, Deadline.Seconds(30));
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.Contains($"chaqum:{root}:", StringComparison.Ordinal)).ToList();
    }

    /// <summary>Cleanup: cancels whatever Slurm jobs of the tree are left (a failed test).</summary>
    public static void CancelAll(TempTree tree) => CancelAll(tree.Root);

    public static void CancelAll(string root)
    {
        foreach (var line in JobsOf(root))
        {
            Run("scancel", new[] { "--signal=KILL", "--full", line.Split(' ')[0] }, Deadline.Seconds(30));
            // A signal ends a job by ending its batch step; an allocation of a plan's role
            // (salloc --no-shell) has none, and stays until it is cancelled outright.
            Run("scancel", new[] { line.Split(' ')[0] }, Deadline.Seconds(30));
        }
    }

    public static (int Exit, string Out, string Err) Run(string file, string[] args, TimeSpan limit)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (Conf.Length > 0) info.Environment["SLURM_CONF"] = Conf;
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(true);
            return (-1, stdout.Result, stderr.Result + $"\n(killed after {limit.TotalSeconds}s)");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>tests/cluster/NAME in the checkout the tests were built from.</summary>
    private static string Script(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "cluster", name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"tests/cluster/{name} not found above {AppContext.BaseDirectory}");
    }
}
