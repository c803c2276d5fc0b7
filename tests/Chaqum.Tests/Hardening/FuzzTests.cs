using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Chaqum.Tests.Hardening;

/// <summary>A short run of the protocol fuzzer (fuzz/run): four fuzz jobs at a time write
/// generated and mutated command lines for about twenty seconds, each reply checked against
/// the model of docs/protocol.md, next to a canary that must keep working. The long runs
/// and what is checked are in docs/reliability.md.</summary>
[TestFixture, CancelAfter(400_000), Heavy]
public class FuzzTests
{
    private static readonly TimeSpan Slack = Deadline.Seconds(30);

    [Test]
    public void A_short_fuzz_run_holds_every_invariant()
    {
        var work = Path.Combine(Path.GetTempPath(), "chaqum-fuzz-test-" + Guid.NewGuid().ToString("N")[..8]);
        var summaryPath = Path.Combine(work, "summary.json");
        Directory.CreateDirectory(work);
        try
        {
            var info = new ProcessStartInfo("python3")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in new[]
            {
                // --slack: how late a reply may be before it counts as a hang; a busy
                // machine makes replies late, so it grows with the deadline knob.
                Path.Combine(NativeJob.RepoRoot, "fuzz", "run"), "--seconds", "20", "--jobs", "4", "--job-seconds", "8",
                "--slack", Slack.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--daemon", DaemonProcess.DaemonDll, "--workdir", work, "--json", summaryPath, "--keep",
            }) info.ArgumentList.Add(a);
            info.Environment.Remove("CHAQUM_TREE");
            using var fuzz = Process.Start(info)!;
            var stdout = fuzz.StandardOutput.ReadToEndAsync();
            var stderr = fuzz.StandardError.ReadToEndAsync();
            var limit = TimeSpan.FromSeconds(20 + 180) + Slack + Deadline.Seconds(60);
            if (!fuzz.WaitForExit(limit))
            {
                fuzz.Kill(true);
                Assert.Fail($"fuzz/run did not finish within {limit.TotalSeconds} s");
            }
            TestContext.Progress.WriteLine(stdout.Result);
            TestContext.Progress.WriteLine(stderr.Result);
            Assert.That(fuzz.ExitCode, Is.EqualTo(0), "fuzz/run found violations:\n" + stdout.Result + stderr.Result);

            var summary = JsonNode.Parse(File.ReadAllText(summaryPath))!;
            Assert.That(summary["violations"]!.AsArray(), Is.Empty);
            // Counts in a 20 s run, so only "some": a busy machine gets fewer through.
            Assert.That(summary["lines"]!.GetValue<long>(), Is.GreaterThan(0), "the fuzz jobs got through");
            Assert.That(summary["canary"]!["round_trips"]!.GetValue<long>(), Is.GreaterThan(0), "the canary kept working");
            Assert.That(summary["daemon"]!["exit_code"]!.GetValue<int>(), Is.EqualTo(0));
        }
        finally
        {
            ProcessCleanup.KillTreeProcesses(Path.Combine(work, "tree"));
            try { Directory.Delete(work, true); } catch (IOException) { }
        }
    }
}
