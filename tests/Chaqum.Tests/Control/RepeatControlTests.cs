using Chaqum.Tests.Daemon;

namespace Chaqum.Tests.Control;

/// <summary>chaqumctl unrepeat / disable / enable / trigger and kill -g against a real
/// daemon. Gates are files the jobs write and answers of the daemon, never a wait.</summary>
[TestFixture, CancelAfter(180_000)]
public class RepeatControlTests
{
    /// <summary>A daemon whose init registers an hourly repeat of "mark" (which appends a
    /// line to marks) and writes its id to repeat.id.</summary>
    private static DaemonProcess WithHourlyRepeat(TempTree tree, string options = "")
    {
        tree.Script("mark", "echo \"$CHAQUM_IDENT\" >> marks\nwhile [ -e hold ]; do sleep 0.05; done\n");
        var d = Ctl.Daemon(tree, $"cmd 'repeat -i 1h {options} -- mark'; word 2 > repeat.id.tmp; mv repeat.id.tmp repeat.id");
        Poll.Until(() => tree.Exists("repeat.id"), "init to register the repeat");
        return d;
    }

    private static int Marks(TempTree tree) => tree.Exists("marks") ? tree.Read("marks").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length : 0;

    [Test]
    public void Trigger_fires_now_and_keeps_the_schedule()
    {
        using var tree = new TempTree();
        using var d = WithHourlyRepeat(tree);
        string id = tree.Read("repeat.id").Trim();
        string next = Ctl.Run(tree, "repeats", "--json").Json[0]!["next_at"]!.GetValue<string>();

        var fired = Ctl.Run(tree, "trigger", id);
        Assert.That(fired.Exit, Is.EqualTo(0), fired.ToString());
        Assert.That(fired.Out, Does.Match($@"^{id}: fired mark/\d+\n$"));
        Poll.Until(() => Marks(tree) == 1, "the triggered firing to run");
        var repeat = Ctl.Run(tree, "repeats", "--json").Json[0]!;
        Assert.That(repeat["next_at"]!.GetValue<string>(), Is.EqualTo(next), "the schedule is untouched");
        Assert.That(repeat["fired"]!.GetValue<long>(), Is.EqualTo(1));
        Assert.That(d.Log, Does.Contain($"{id}: triggered by the operator"));
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(Ctl.Run(tree, "unrepeat", id).Exit, Is.EqualTo(0));
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void Trigger_while_the_last_firing_runs_says_so_and_fires_nothing()
    {
        using var tree = new TempTree();
        File.WriteAllText(tree.PathOf("hold"), "");
        using var d = WithHourlyRepeat(tree);
        string id = tree.Read("repeat.id").Trim();
        Assert.That(Ctl.Run(tree, "trigger", id).Exit, Is.EqualTo(0));
        Poll.Until(() => Marks(tree) == 1, "the first firing to run");

        var busy = Ctl.Run(tree, "trigger", id);
        Assert.That(busy.Exit, Is.EqualTo(1), busy.ToString());
        Assert.That(busy.Out, Does.Match($@"^{id}: not fired: mark/\d+ is still running and {id} does not allow overlap \(-o\)"));
        Assert.That(Ctl.Run(tree, "repeats", "--json").Json[0]!["skipped"]!.GetValue<long>(), Is.EqualTo(1));
        File.Delete(tree.PathOf("hold"));
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(Ctl.Run(tree, "unrepeat", id).Exit, Is.EqualTo(0));
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(Marks(tree), Is.EqualTo(1));
    }

    [Test]
    public void Disable_skips_firings_shows_it_and_enable_brings_them_back()
    {
        using var tree = new TempTree();
        tree.Script("mark", "echo \"$CHAQUM_IDENT\" >> marks\n");
        using var d = Ctl.Daemon(tree, "cmd 'repeat -i 0.05 -- mark'; word 2 > repeat.id.tmp; mv repeat.id.tmp repeat.id");
        Poll.Until(() => tree.Exists("repeat.id"), "init to register the repeat");
        string id = tree.Read("repeat.id").Trim();

        var disabled = Ctl.Run(tree, "disable", id);
        Assert.That(disabled.Out, Is.EqualTo($"{id}: disabled\n"), disabled.ToString());
        Assert.That(Ctl.Run(tree, "repeats").Out, Does.Match($@"{id}\s+mark\s+every .+?\s+-\s+disabled\s"));
        Assert.That(Ctl.Run(tree, "repeats", "--json").Json[0]!["disabled"]!.GetValue<bool>(), Is.True);
        Assert.That(d.Log, Does.Contain($"{id}: disabled by the operator"));
        // A firing enqueued just before the disable may still run and write its mark.
        Poll.Until(() => Ctl.Run(tree, "repeats", "--json").Json[0]!["last_state"]?.GetValue<string>() is "done" or null, "the last firing to end");
        int settled = Marks(tree);
        long skipped = Ctl.Run(tree, "repeats", "--json").Json[0]!["skipped"]!.GetValue<long>();
        Poll.Until(() => Ctl.Run(tree, "repeats", "--json").Json[0]!["skipped"]!.GetValue<long>() >= skipped + 2, "two more firings to be skipped");
        Assert.That(Marks(tree), Is.EqualTo(settled), "no firing ran while disabled");

        Assert.That(Ctl.Run(tree, "enable", id).Out, Is.EqualTo($"{id}: enabled\n"));
        Poll.Until(() => Marks(tree) > settled, "firings to come back");
        Assert.That(d.Log, Does.Contain($"{id}: enabled by the operator"));
        Assert.That(Ctl.Run(tree, "unrepeat", id).Out, Is.EqualTo($"{id}: removed\n"));
        Assert.That(Ctl.Run(tree, "repeats", "--json").Json.AsArray(), Is.Empty);
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void Unknown_repeat_ids_get_a_sentence_and_exit_1()
    {
        using var tree = new TempTree();
        using var d = Ctl.Daemon(tree, "");
        foreach (var verb in new[] { "unrepeat", "disable", "enable", "trigger" })
        {
            var r = Ctl.Run(tree, verb, "repeat:99");
            Assert.That(r.Exit, Is.EqualTo(1), r.ToString());
            Assert.That(r.Err, Is.EqualTo("chaqumctl: no repeat 'repeat:99' (chaqumctl repeats lists them)\n"));
            Assert.That(Ctl.Run(tree, verb).Exit, Is.EqualTo(2), "the id is required");
        }
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void Kill_g_cancels_the_queued_signals_the_running_and_asks_when_others_wait()
    {
        using var tree = new TempTree();
        tree.Script("work", "echo $$ > \"started.$1\"\nsleep 3600\n");
        tree.Script("bystander", "sleep 3600\n");
        using var d = Ctl.Daemon(tree, """
            cmd 'enqueue -g batch -m 2 -- work 1'; echo "$(word 2)" > first.id
            cmd 'enqueue -g batch -- work 2'
            cmd 'enqueue -g batch -- work 3'
            cmd 'enqueue -- bystander'; echo "$(word 2)" > bystander.id
            cmd "wait -- $(cat first.id)"
            """);
        Poll.Until(() => tree.Exists("started.1") && tree.Exists("started.2") && tree.Exists("bystander.id"), "two of the group to run");
        string first = tree.Read("first.id").Trim();
        Poll.Until(() => Ctl.Run(tree, "show", first, "--json").Json["waited_on_by"]!.AsArray().Count == 1, "init to wait on the first");

        var refused = Ctl.Run(tree, "kill", "-g", "batch");
        Assert.That(refused.Exit, Is.EqualTo(1), refused.ToString());
        Assert.That(refused.Err, Does.Contain($"{first} is waited on by init"));
        Assert.That(refused.Err, Does.Contain("use --yes"));
        Assert.That(Ctl.Job(tree, first)!["state"]!.GetValue<string>(), Is.EqualTo("running"));

        var killed = Ctl.Run(tree, "kill", "-g", "batch", "--yes");
        Assert.That(killed.Exit, Is.EqualTo(0), killed.ToString());
        Assert.That(killed.Lines, Has.Length.EqualTo(3));
        Assert.That(killed.Out, Does.Match(@"work/\d+: cancelled"));
        Assert.That(killed.Lines.Count(l => l.EndsWith(": sent SIGTERM")), Is.EqualTo(2));
        Poll.Until(() => d.Output("init").Contains($"reply: S {first} -15"), "init's wait to see the kill");
        Assert.That(tree.Exists("started.3"), Is.False, "the queued one never started");
        string bystander = tree.Read("bystander.id").Trim();
        Assert.That(Ctl.Job(tree, bystander)!["state"]!.GetValue<string>(), Is.EqualTo("running"), "jobs outside the group are left alone");

        Assert.That(Ctl.Run(tree, "kill", "-g", "nosuch").Err, Does.Contain("no group 'nosuch'"));
        Assert.That(Ctl.Run(tree, "kill", "-g", "batch", first).Exit, Is.EqualTo(2), "ids and a group together are a usage error");
        Assert.That(Ctl.Run(tree, "kill", "--yes", bystander).Exit, Is.EqualTo(0));
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void Help_lists_the_repeat_commands_and_kill_g()
    {
        var help = Ctl.Exec(new[] { "--help" });
        foreach (var verb in new[] { "unrepeat", "disable", "enable", "trigger" })
            Assert.That(help.Out, Does.Match($@"\n\s+{verb}\s"), help.ToString());
        Assert.That(Ctl.Exec(new[] { "kill", "--help" }).Out, Does.Contain("-g, --group <GROUP>"));
        Assert.That(Ctl.Exec(new[] { "trigger", "--help" }).Out, Does.Contain("does not allow overlap"));
    }
}
