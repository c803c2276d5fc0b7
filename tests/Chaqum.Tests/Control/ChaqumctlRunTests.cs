using System.Text.RegularExpressions;

namespace Chaqum.Tests.Control;

/// <summary>chaqumctl run and enqueue against a real daemon: exit statuses (the job's code,
/// 128+signal, 125 when it never ran), Ctrl-C detaching without killing, where our options
/// end and the script's arguments begin, and cancelling a queued job.</summary>
[TestFixture, CancelAfter(180_000)]
public class ChaqumctlRunTests
{
    private static string[] At(TempTree tree, params string[] args) =>
        new[] { "-t", tree.Root, "--state-dir", tree.StateDir }.Concat(args).ToArray();

    [Test]
    public void Run_exits_128_plus_the_signal_when_killed_or_timed_out_and_125_when_the_job_never_ran()
    {
        using var tree = new TempTree();
        tree.Script("slow", "echo started\nsleep 3600\n");
        tree.Script("fails", "exit 4\n");
        using var d = Ctl.Daemon(tree, "");

        var timedOut = Ctl.Run(tree, "run", "-t", "0.5", "--", "slow");
        Assert.That(timedOut.Exit, Is.EqualTo(128 + 15), timedOut.ToString());
        Assert.That(timedOut.Lines, Is.EqualTo(new[] { "started" }));

        // Killed by the operator while chaqumctl streams it.
        using (var run = Ctl.Start(At(tree, "run", "--", "slow")))
        {
            var announce = run.StandardError.ReadLine() ?? "";
            var id = Regex.Match(announce, @"^chaqumctl: (slow/\d+) running; Ctrl-C detaches$").Groups[1].Value;
            Assert.That(id, Is.Not.Empty, announce);
            Assert.That(run.StandardOutput.ReadLine(), Is.EqualTo("started"));
            Assert.That(Ctl.Run(tree, "kill", "-s", "USR2", id).Exit, Is.EqualTo(0));
            Assert.That(run.WaitForExit(Deadline.Seconds(20)), Is.True, "run ends with its job");
            Assert.That(run.ExitCode, Is.EqualTo(128 + 12));
        }

        // A dependency that failed: the job is cancelled without running.
        var failed = Ctl.Run(tree, "run", "fails");
        Assert.That(failed.Exit, Is.EqualTo(4));
        var fails = Ctl.Run(tree, "enqueue", "fails").Out.Trim();
        Poll.Until(() => Ctl.Run(tree, "history", "--id", fails, "--json").Json.AsArray().Count == 1, "the failing run to end");
        var never = Ctl.Run(tree, "run", "-a", fails, "--", "slow");
        Assert.That(never.Exit, Is.EqualTo(125), never.ToString());
        Assert.That(never.Out, Is.Empty, "it never ran");
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    [Test]
    public void Ctrl_C_detaches_from_run_and_the_job_keeps_running()
    {
        using var tree = new TempTree();
        tree.Script("slow", "echo started\nsleep 3600\n");
        using var d = Ctl.Daemon(tree, "");

        // SIGINT at its default disposition, whatever the test runner inherited.
        using var run = Ctl.Start(At(tree, "run", "--", "slow"), prefix: new[] { "env", "--default-signal=INT" });
        var announce = run.StandardError.ReadLine() ?? "";
        var id = Regex.Match(announce, @"^chaqumctl: (slow/\d+) running").Groups[1].Value;
        Assert.That(id, Is.Not.Empty, announce);
        Assert.That(run.StandardOutput.ReadLine(), Is.EqualTo("started"));
        int pid = Ctl.Job(tree, id)!["pid"]!.GetValue<int>();

        Assert.That(Support.Native.kill(run.Id, 2), Is.EqualTo(0));
        Assert.That(run.WaitForExit(Deadline.Seconds(20)), Is.True, "Ctrl-C ends chaqumctl run");
        Assert.That(run.ExitCode, Is.EqualTo(130));
        var said = run.StandardError.ReadToEnd();
        Assert.That(said, Does.Contain($"detached; {id} goes on"));
        Assert.That(said, Does.Contain($"log -f {id}"));

        var job = Ctl.Job(tree, id)!;
        Assert.That(job["state"]!.GetValue<string>(), Is.EqualTo("running"), "detaching kills nothing");
        Assert.That(job["pid"]!.GetValue<int>(), Is.EqualTo(pid));
        Assert.That(ProcessCleanup.Alive(pid), Is.True);
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    [Test]
    public void Help_is_ours_only_before_the_script()
    {
        using var tree = new TempTree();
        tree.Script("echoargs", "echo \"args: $*\"\n");
        using var d = Ctl.Daemon(tree, "");

        foreach (var words in new[] { new[] { "run", "--help" }, new[] { "enqueue", "-h" }, new[] { "run", "-g", "x", "--help" } })
        {
            var help = Ctl.Run(tree, words);
            Assert.That(help.Exit, Is.EqualTo(0), help.ToString());
            Assert.That(help.Out, Does.Contain("[-t TIMEOUT]").And.Contain("SCRIPT [ARG...]"), string.Join(' ', words));
        }
        Assert.That(Ctl.Run(tree, "run", "--help").Out, Does.Contain("128+N"));

        var afterDashes = Ctl.Run(tree, "run", "--", "echoargs", "--help");
        Assert.That(afterDashes.Exit, Is.EqualTo(0), afterDashes.ToString());
        Assert.That(afterDashes.Lines, Is.EqualTo(new[] { "args: --help" }));
        Assert.That(Ctl.Run(tree, "run", "echoargs", "-h").Lines, Is.EqualTo(new[] { "args: -h" }), "the script's word ends the options");
        // Every option that takes a value is known as one: -B's value is not the script.
        Assert.That(Ctl.Run(tree, "enqueue", "--help").Out, Does.Contain("[-B FAILURES]").And.Contain("[-d DELAY | -A TIME]"));
        Assert.That(Ctl.Run(tree, "run", "-B", "2", "-g", "b", "-d", "1s", "echoargs", "x").Lines, Is.EqualTo(new[] { "args: x" }));
        Assert.That(Ctl.Run(tree, "run").Exit, Is.EqualTo(2), "no script: a usage error");
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    [Test]
    public void Killing_a_queued_job_cancels_it_and_the_history_says_so()
    {
        using var tree = new TempTree();
        tree.Script("work", "sleep 3600\n");
        using var d = Ctl.Daemon(tree, "cmd 'group -m 1 -- g'");
        Assert.That(Ctl.Run(tree, "pause", "g").Exit, Is.EqualTo(0));
        var id = Ctl.Run(tree, "enqueue", "-g", "g", "--", "work").Out.Trim();
        Assert.That(Ctl.Job(tree, id)!["state"]!.GetValue<string>(), Is.EqualTo("queued"));

        var kill = Ctl.Run(tree, "kill", id);
        Assert.That(kill.Exit, Is.EqualTo(0), kill.ToString());
        Assert.That(kill.Out.Trim(), Is.EqualTo($"{id}: cancelled"));

        var record = Poll.Until(() => Ctl.Run(tree, "history", "--id", id, "--json").Json.AsArray().SingleOrDefault(), "the cancelled job in the history");
        Assert.That(record["outcome"]!.GetValue<string>(), Is.EqualTo("cancelled"));
        Assert.That(record["exit_code"], Is.Null);
        Assert.That(record["signal"], Is.Null);
        Assert.That(record["started_at"], Is.Null, "it never started");
        Assert.That(record["group"]!.GetValue<string>(), Is.EqualTo("g"));
        File.WriteAllText(tree.PathOf("stop"), "");
    }
}
