using Chaqum.Tests.Control;

namespace Chaqum.Tests.Daemon;

/// <summary>The group failure breaker (group -B N) with a real failing script.</summary>
[TestFixture, CancelAfter(180_000)]
public class BreakerIntegrationTests
{
    [Test]
    public void A_failing_script_pauses_its_group_which_says_why_until_resumed()
    {
        using var tree = new TempTree();
        // Fails while the file "broken" exists; records every run.
        tree.Script("convert", "echo \"$1\" >> runs\n[ -e broken ] && exit 3\nexit 0\n");
        File.WriteAllText(tree.PathOf("broken"), "");
        using var d = Ctl.Daemon(tree, """
            cmd 'group -B 3 -m 1 -- convert'
            for i in 1 2 3 4 5 6; do cmd "enqueue -g convert -- convert $i"; done
            echo > enqueued
            """);
        var reason = d.WaitForLine(@"ERR group convert: paused: 3 consecutive failures, last: convert/\d+ exit 3");
        Assert.That(reason, Does.Contain("chaqumctl resume -g convert"));
        var group = Ctl.Run(tree, "groups", "--json").Json.AsArray().First(g => g!["name"]?.GetValue<string>() == "convert")!;
        Assert.That(group["paused"]!.GetValue<bool>(), Is.True);
        Assert.That(group["break_after"]!.GetValue<int>(), Is.EqualTo(3));
        Assert.That(group["paused_reason"]!.GetValue<string>(), Does.Match(@"^3 consecutive failures, last: convert/\d+ exit 3$"));
        Poll.Until(() => tree.Exists("enqueued"), "init to enqueue all six");
        Assert.That(Ctl.Run(tree, "groups").Out, Does.Match(@"convert\s+1\s+0\s+3\s+yes: 3 consecutive failures, last: convert/\d+ exit 3"));
        Assert.That(tree.Read("runs").Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "1", "2", "3" }), "nothing more was fed to it");

        File.Delete(tree.PathOf("broken"));
        var resumed = Ctl.Run(tree, "resume", "-g", "convert");
        Assert.That(resumed.Exit, Is.EqualTo(0), resumed.ToString());
        Poll.Until(() => tree.Read("runs").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 6, "the rest to run");
        Poll.Until(() => Ctl.Run(tree, "groups", "--json").Json.AsArray().First(g => g!["name"]?.GetValue<string>() == "convert")!["running"]!.GetValue<int>() == 0, "the last to end");
        var after = Ctl.Run(tree, "groups", "--json").Json.AsArray().First(g => g!["name"]?.GetValue<string>() == "convert")!;
        Assert.That(after["paused"]!.GetValue<bool>(), Is.False);
        Assert.That(after["paused_reason"], Is.Null);
        Assert.That(after["consecutive_failures"]!.GetValue<int>(), Is.EqualTo(0));
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    /// <summary>The breaker's setting, the pause it made and why, are kept with the queue
    /// across a restart: the broken script is not fed again by an upgrade.</summary>
    [Test]
    public void A_restart_keeps_the_breaker_its_pause_and_the_reason()
    {
        using var tree = new TempTree();
        tree.Script("convert", "echo \"$1\" >> runs\nexit 3\n");
        tree.Script("init", Sh.Script("""
            [ -n "${CHAQUM_RESUMED+set}" ] && { echo "resumed=$CHAQUM_RESUMED"; exit 0; }
            cmd 'group -B 2 -m 1 -- convert'
            for i in 1 2 3 4; do cmd "enqueue -g convert -- convert $i"; done
            sleep 300
            """));
        string reason;
        using (var d = DaemonProcess.Start(tree))
        {
            reason = d.WaitForLine(@"ERR group convert: paused: 2 consecutive failures");
            d.Signal(15);
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
        }
        using (var d = DaemonProcess.Start(tree))
        {
            d.WaitForLine(@"init\[out\] resumed=2");
            var group = Ctl.Run(tree, "groups", "--json").Json.AsArray().First(g => g!["name"]?.GetValue<string>() == "convert")!;
            Assert.That(group["paused"]!.GetValue<bool>(), Is.True);
            Assert.That(group["break_after"]!.GetValue<int>(), Is.EqualTo(2));
            Assert.That(group["max_procs"]!.GetValue<int>(), Is.EqualTo(1));
            Assert.That(reason, Does.Contain(group["paused_reason"]!.GetValue<string>()));
            Assert.That(tree.Read("runs").Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "1", "2" }));
            Assert.That(Ctl.Run(tree, "kill", "-g", "convert", "-y").Exit, Is.EqualTo(0));
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
        }
    }

    [Test]
    public void Bad_B_values_are_refused_with_E()
    {
        using var tree = new TempTree();
        tree.Script("x", "exit 0\n");
        var replies = Sh.InitOutput(tree, """
            cmd 'group -B -1 -- g'
            cmd 'group -B x -- g'
            cmd 'enqueue -g g -B 1.5 -- x'
            cmd 'repeat -i 1h -g g -B many -- x'
            cmd 'group -B 0 -- g'
            """);
        Assert.That(replies, Is.EqualTo(new[]
        {
            "reply: E group: -B (failures before the group pauses): '-1' is not a non-negative integer",
            "reply: E group: -B (failures before the group pauses): 'x' is not a non-negative integer",
            "reply: E enqueue: -B (failures before the group pauses): '1.5' is not a non-negative integer",
            "reply: E repeat: -B (failures before the group pauses): 'many' is not a non-negative integer",
            "reply: S",
        }));
    }
}
