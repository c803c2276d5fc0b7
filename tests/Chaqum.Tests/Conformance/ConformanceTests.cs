using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Chaqum.Tests.Conformance;

/// <summary>
/// Runs the client conformance corpus (tests/conformance, see its README): every
/// scenario in every language, against the real daemon, with the same expected output.
/// </summary>
[TestFixture, CancelAfter(120_000)]
public class ConformanceTests
{
    public static readonly string[] Languages = { "sh", "python", "perl", "dotnet" };

    public static string Corpus
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "conformance");
                if (Directory.Exists(candidate)) return candidate;
            }
            throw new DirectoryNotFoundException("tests/conformance not found");
        }
    }

    public static IEnumerable<string> Scenarios() =>
        Directory.GetFiles(Path.Combine(Corpus, "expected"), "*.out").Select(Path.GetFileNameWithoutExtension).Order()!;

    public static IEnumerable<TestCaseData> Cases() =>
        from language in Languages
        from scenario in Scenarios()
        select new TestCaseData(language, scenario).SetName($"{language}: {scenario}");

    /// <summary>A tree for one language: its directory, the shared peers and every
    /// language's echo peer.</summary>
    public static TempTree BuildTree(string language)
    {
        var tree = new TempTree();
        CopyInto(Path.Combine(Corpus, language), tree.Root);
        CopyInto(Path.Combine(Corpus, "peers"), tree.Root);
        foreach (var other in Languages)
        {
            var echo = Path.Combine(Corpus, other, "echo-" + other);
            if (File.Exists(echo)) File.Copy(echo, Path.Combine(tree.Root, "echo-" + other), true);
        }
        return tree;
    }

    private static void CopyInto(string from, string to)
    {
        if (!Directory.Exists(from)) return;
        foreach (var file in Directory.GetFiles(from))
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith(".csproj") || name.EndsWith(".cs") || name == "README.md") continue;
            var target = Path.Combine(to, name);
            File.Copy(file, target, true);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }
    }

    /// <summary>Environment for trees: where the compiled .NET conformance job is.</summary>
    public static Dictionary<string, string?> Environment() => new()
    {
        ["CONFORMANCE_DOTNET"] = Path.Combine(AppContext.BaseDirectory, "ConformanceJob.dll"),
    };

    [TestCaseSource(nameof(Cases))]
    public void Scenario(string language, string scenario)
    {
        using var tree = BuildTree(language);
        Assert.That(File.Exists(Path.Combine(tree.Root, "init")), Is.True, $"tests/conformance/{language}/init is missing");
        using var d = DaemonProcess.Start(tree, new[] { scenario }, Environment(), new[] { "-v" });
        int status = d.WaitForExit(TimeSpan.FromSeconds(90));
        Assert.That(status, Is.EqualTo(0), d.Log);

        var expected = File.ReadAllLines(Path.Combine(Corpus, "expected", scenario + ".out"));
        var actual = d.Output(@"init(?:/\d+)?");
        Assert.That(actual, Is.EqualTo(expected), $"stdout of init for {language} {scenario}. Log:\n{d.Log}");

        var logPatterns = Path.Combine(Corpus, "expected", scenario + ".log");
        if (File.Exists(logPatterns))
            foreach (var pattern in File.ReadAllLines(logPatterns).Where(l => l.Length > 0))
                Assert.That(d.Lines.Any(new Regex(pattern).IsMatch), Is.True, $"no log line matches /{pattern}/. Log:\n{d.Log}");
    }

    [TestCaseSource(nameof(Languages))]
    public void Outside_a_job_the_library_says_so_instead_of_hanging(string language)
    {
        using var tree = BuildTree(language);
        var clients = Path.Combine(AppContext.BaseDirectory, "clients");
        var info = new ProcessStartInfo(Path.Combine(tree.Root, "init"))
        {
            WorkingDirectory = tree.Root,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("outside");
        info.Environment["CHAQUM_LIBDIR"] = clients;
        info.Environment["PYTHONPATH"] = Path.Combine(clients, "python");
        info.Environment["PERL5LIB"] = Path.Combine(clients, "perl");
        foreach (var (k, v) in Environment()) info.Environment[k] = v;
        foreach (var k in info.Environment.Keys.Where(k => k.StartsWith("CHAQUM_") && k != "CHAQUM_LIBDIR").ToList())
            info.Environment.Remove(k);
        // .NET hands a child only fds 0-2: 3 and 4 are closed, as outside a chaqum job.
        using var p = Process.Start(info)!;
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(Deadline.Seconds(30)))
        {
            p.Kill(true);
            Assert.Fail($"{language}: the library hung outside a job");
        }
        Assert.That(p.ExitCode, Is.Not.EqualTo(0));
        Assert.That(stderr.Result, Does.Contain("fds 3 and 4"), $"stdout: {stdout.Result}");
    }
}
