using System.Text.RegularExpressions;
using Chaqum.Tests.Control;

namespace Chaqum.Tests.JobTrees;

/// <summary>jobtrees/morning: a repeat runs `review` at 07:00, which kills the jobs running
/// longer than usual with chaqumctl killlist --yes from inside the tree and logs what it
/// killed. Here the review is run at once, against the real chaqumctl found next to the
/// daemon ($CHAQUM_LIBDIR/../chaqumctl).</summary>
[TestFixture, CancelAfter(180_000)]
public class MorningTreeTests
{
    /// <summary>The tree lives in the repository, not in the scratch directory: whatever a
    /// failed test left running of it goes here (the tests of a fixture run one by one).</summary>
    [TearDown]
    public void KillLeftovers() => ProcessCleanup.KillTreeProcesses(ExampleTrees.Directory("morning"));

    /// <summary>The tree with its own socket, so that it never meets another daemon of it.</summary>
    private static DaemonProcess Start(TempTree scratch, string socket, params string[] args) =>
        DaemonProcess.Raw(new[] { "--state-dir", scratch.StateDir, "--control", socket, "--grace", "2", ExampleTrees.Directory("morning") }
            .Concat(args).ToArray());

    private static Ctl.Result Ctl_(string socket, TempTree scratch, params string[] args) =>
        Ctl.Exec(new[] { "--socket", socket, "--state-dir", scratch.StateDir }.Concat(args).ToArray());

    /// <summary>The review's log lines (its warnings and infos go to stderr).</summary>
    private static List<string> Review(DaemonProcess d, string level) =>
        d.Lines.Where(l => Regex.IsMatch(l, $@"^\S+ {level} review/\d+\[err\] review: ")).Select(l => l[(l.IndexOf("review: ", StringComparison.Ordinal) + 8)..]).ToList();

    /// <summary>Waits for the review's warning that it killed the job; returns that line.</summary>
    private static string Killed(DaemonProcess d, string id)
    {
        string? line = null;
        Poll.Until(() => (line = Review(d, "WRN").FirstOrDefault(l => l.StartsWith($"killed {id} "))) is not null,
            () => $"the review to kill {id}. Log:\n{d.Log}", TimeSpan.FromSeconds(60));
        return line!;
    }

    [Test]
    public void The_review_kills_the_job_running_longer_than_usual_and_logs_it()
    {
        using var scratch = new TempTree();
        var socket = Path.Combine(scratch.Root, "ctl.sock");
        using var d = Start(scratch, socket);
        d.WaitForLine(@"INF init\[err\] morning review scheduled at '0 7 \* \* \*' \(repeat:\d+\)");
        d.WaitForLine(@"init: exited: exit 0");

        // Nothing to review yet.
        Assert.That(Ctl_(socket, scratch, "enqueue", "--", "review").Exit, Is.EqualTo(0));
        Poll.Until(() => Review(d, "INF").Contains("no job runs longer than usual"), () => $"the idle review. Log:\n{d.Log}");

        // A short history: nightly usually takes 0.05 s. Then a run that hangs.
        for (int i = 0; i < 3; i++)
            Assert.That(Ctl_(socket, scratch, "run", "--", "nightly", "0.05").Exit, Is.EqualTo(0));
        var hung = Ctl_(socket, scratch, "enqueue", "--", "nightly", "600").Out.Trim();
        Assert.That(hung, Does.Match(@"^nightly/\d+$"));
        Poll.Until(() => Ctl_(socket, scratch, "ps", "--json").Json.AsArray()
            .Any(j => j!["id"]!.GetValue<string>() == hung && j["longer_than_usual"]!.GetValue<bool>()), "ps to flag the hung run LONGER");

        // --dry-run only says what it would do.
        Assert.That(Ctl_(socket, scratch, "enqueue", "--", "review", "--dry-run").Exit, Is.EqualTo(0));
        Poll.Until(() => Review(d, "WRN").Any(l => l.StartsWith($"would kill {hung} (nightly running ")), () => $"the dry run. Log:\n{d.Log}");
        Assert.That(d.HasLine($@"{Regex.Escape(hung)}: killed"), Is.False);

        Assert.That(Ctl_(socket, scratch, "enqueue", "--", "review").Exit, Is.EqualTo(0));
        var killed = Killed(d, hung);
        Assert.That(killed, Does.Match($@"^killed {Regex.Escape(hung)} \(nightly running \S+( \S+)? usually \S+( \S+)?\): sent SIGTERM$"));
        d.WaitForLine($@"{Regex.Escape(hung)}: killed: signal SIGTERM");
        Assert.That(d.HasLine(@"ERR review/"), Is.False, d.Log);

        var record = Poll.Until(() => Ctl_(socket, scratch, "history", "--id", hung, "--json").Json.AsArray().SingleOrDefault(), "the killed run in the history");
        Assert.That(record["outcome"]!.GetValue<string>(), Is.EqualTo("killed"));
        Assert.That(record["signal"]!.GetValue<int>(), Is.EqualTo(15));
        Assert.That(Ctl_(socket, scratch, "repeats").Out, Does.Contain("review  on cron '0 7 * * *'"), "the 07:00 review stays scheduled");

        // The repeat keeps the daemon running: it stops on SIGTERM.
        d.Signal(15);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void The_demo_builds_history_hangs_a_run_and_the_review_kills_it()
    {
        using var scratch = new TempTree();
        var socket = Path.Combine(scratch.Root, "ctl.sock");
        using var d = Start(scratch, socket, "--demo");
        var warning = d.WaitForLine(@"WRN init\[err\] demo: nightly/\d+ hangs; the review will find it");
        var hung = Regex.Match(warning, @"nightly/\d+").Value;
        var killed = Killed(d, hung);
        Assert.That(killed, Does.EndWith(": sent SIGTERM"));
        d.WaitForLine($@"{Regex.Escape(hung)}: killed: signal SIGTERM");
        d.WaitForLine(@"review/\d+: exited: exit 0");
        d.Signal(15);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void Bad_arguments_are_refused_with_a_usage_line()
    {
        using var scratch = new TempTree();
        var socket = Path.Combine(scratch.Root, "ctl.sock");
        using var d = Start(scratch, socket, "--bogus");
        Assert.That(d.WaitForExit(), Is.EqualTo(0), "the daemon ends: init failed and nothing else is left");
        Assert.That(d.HasLine(@"init\[err\] usage: chaqum jobtrees/morning \[-c CRON\] \[--now\] \[--demo\]"), Is.True, d.Log);
        Assert.That(d.HasLine(@"init: failed: exit 2"), Is.True, d.Log);
    }
}
