using System.Diagnostics;

namespace Chaqum.Tests.Cluster;

/// <summary>
/// The real two-node Slurm cluster on loopback that the tests in this namespace run
/// against (tests/cluster/slurm-up: munged, slurmctld, slurmd -N n1 and -N n2, all under
/// a private directory). Brought up before the first of them unless it is up already,
/// and torn down after the last only if this fixture started it. If it cannot be
/// brought up, every cluster test fails with what slurm-up said: a cluster test that
/// skips would hide a broken executor.
/// </summary>
[SetUpFixture]
public sealed class SlurmCluster
{
    /// <summary>SLURM_CONF for daemons under test (and scancel, squeue in the tests).</summary>
    public static string Conf { get; private set; } = "";
    private static string? _failure;
    private bool _startedHere;

    [OneTimeSetUp]
    public void BringUp()
    {
        var (exit, stdout, stderr) = Run(Script("slurm-up"), Array.Empty<string>(), Deadline.Minutes(3));
        var conf = stdout.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("SLURM_CONF=", StringComparison.Ordinal));
        if (exit != 0 || conf is null)
        {
            _failure = $"the loopback Slurm cluster did not come up (tests/cluster/slurm-up exit {exit}):\n{stdout}\n{stderr}";
            return;
        }
        Conf = conf["SLURM_CONF=".Length..];
        _startedHere = !stderr.Contains("already up", StringComparison.Ordinal);
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        if (_startedHere) Run(Script("slurm-down"), Array.Empty<string>(), Deadline.Minutes(1));
    }

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
