using Chaqum.Tests.Control;
using static Chaqum.Tests.Plans.PlanRig;

namespace Chaqum.Tests.Plans;

/// <summary>plan cancel in each phase of a plan, and what submit --wait exits with.</summary>
[TestFixture, CancelAfter(180_000)]
public class PlanCancelTests
{
    [Test]
    public void Cancel_before_any_step_has_started_cancels_them_all()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "cmd 'group -- held'");
        d.WaitForLine(@"init\[out\] reply: S$");
        Assert.That(Ctl.Run(tree, "pause", "-g", "held").Exit, Is.EqualTo(0));
        string id = Submit(tree, """{"type": "sequence_group", "role": "held", "work": [{"type": "execute", "command": "mark a"}, {"type": "execute", "command": "mark b"}]}""");
        Assert.That(NodeState(Show(tree, id), "$"), Is.EqualTo("waiting"));
        var r = Ctl.Run(tree, "plan", "cancel", id);
        Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("cancelled"));
        Assert.That(ended["reason"]!.GetValue<string>(), Does.Contain("operator"));
        Assert.That(NodeState(ended, "$.work[0]"), Is.EqualTo("cancelled"));
        Assert.That(NodeState(ended, "$.work[1]"), Is.Not.EqualTo("succeeded"));
        Assert.That(Order(tree), Is.Empty);
        Stop(tree, d);
    }

    [Test]
    public void Cancel_while_a_step_runs_kills_it_and_leaves_the_rest_unrun()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "");
        string id = Submit(tree, Seq(Exec("mark a"), Exec("gate b"), Exec("mark c")));
        WaitStarted(tree, "b");
        Assert.That(Ctl.Run(tree, "plan", "cancel", id).Exit, Is.EqualTo(0));
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("cancelled"), ended.ToJsonString());
        Assert.That(ended["failed_step"], Is.Null);
        Assert.That(Node(ended, "$.work[1]")["status"]!.GetValue<string>(), Is.EqualTo("-15"));
        Assert.That(NodeState(ended, "$.work[0]"), Is.EqualTo("succeeded"));
        Assert.That(Order(tree), Is.EqualTo(new[] { "a", "start b" }));
        Stop(tree, d);
    }

    [Test]
    public void Cancel_in_a_parallel_phase_kills_the_running_steps_and_cancels_the_queued_ones()
    {
        using var tree = new TempTree();
        Scripts(tree);
        // A step that ignores TERM: the cancel's KILL after the grace period ends it.
        tree.Script("deaf", "trap '' TERM\necho \"start deaf\" >> order\nwhile :; do sleep 0.05; done\n");
        using var d = Ctl.Daemon(tree, "cmd 'group -m 2 -- two'");
        d.WaitForLine(@"init\[out\] reply: S$");
        string id = Submit(tree, """
            {"type": "parallel_group", "role": "two", "work": [
              {"type": "execute", "command": "deaf"}, {"type": "execute", "command": "gate x"},
              {"type": "execute", "command": "gate y"}, {"type": "execute", "command": "gate z"}]}
            """);
        WaitStarted(tree, "deaf");
        WaitStarted(tree, "x");
        Assert.That(NodeState(Show(tree, id), "$.work[2]"), Is.EqualTo("queued"));
        var r = Ctl.Run(tree, "plan", "cancel", id);
        Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("cancelled"));
        Assert.That(Node(ended, "$.work[0]")["status"]!.GetValue<string>(), Is.EqualTo("-9"));
        Assert.That(NodeState(ended, "$.work[2]"), Is.EqualTo("cancelled"));
        Assert.That(NodeState(ended, "$.work[3]"), Is.EqualTo("cancelled"));
        Assert.That(Order(tree), Does.Not.Contain("start y").And.Not.Contain("start z"));
        Stop(tree, d);
    }

    [Test]
    public void Cancel_of_an_ended_plan_changes_nothing()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "");
        string id = Submit(tree, Seq(Exec("mark a")));
        Assert.That(State(Ended(tree, id)), Is.EqualTo("succeeded"));
        var r = Ctl.Run(tree, "plan", "cancel", id);
        Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out.Trim(), Is.EqualTo(id + " succeeded"));
        Assert.That(Ctl.Run(tree, "plan", "cancel", "plan/999999").Exit, Is.EqualTo(1));
        Stop(tree, d);
    }

    [Test]
    public void Submit_wait_streams_the_steps_and_exits_0_only_when_the_plan_succeeded()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "");
        var ok = Ctl.Run(tree, "plan", "submit", "--wait", Write(tree, Seq(Exec("mark a"), Par(Exec("mark b"), Exec("mark c")))));
        Assert.That(ok.Exit, Is.EqualTo(0), ok.ToString());
        Assert.That(ok.Lines[0], Does.Match(@"^plan/\d+$"));
        string id = ok.Lines[0];
        Assert.That(ok.Out, Does.Match(@"mark/\d+ running\s+" + System.Text.RegularExpressions.Regex.Escape(id) + " > mark a"));
        Assert.That(ok.Out, Does.Match(@"mark/\d+ succeeded \(0\)\s+" + System.Text.RegularExpressions.Regex.Escape(id) + " > 1 > mark c"));
        Assert.That(ok.Lines[^1], Does.StartWith(id + " succeeded after"));

        var failed = Ctl.Run(tree, "plan", "submit", "--wait", Write(tree, Seq(Exec("fail x 4"), Exec("mark never"))));
        Assert.That(failed.Exit, Is.EqualTo(1), failed.ToString());
        Assert.That(failed.Lines[^1], Does.Contain("failed after").And.Contain("exit 4"));

        // Cancelled while the submitter waits: exit 1 too.
        using var waiting = Ctl.Start(new[] { "-t", tree.Root, "--state-dir", tree.StateDir, "plan", "submit", "--wait", Write(tree, Seq(Exec("gate w"))) });
        var output = waiting.StandardOutput.ReadLineAsync();
        WaitStarted(tree, "w");
        string cancelled = Poll.Until(() => output.IsCompleted ? output.Result : null, "the plan id from submit --wait")!;
        Assert.That(Ctl.Run(tree, "plan", "cancel", cancelled).Exit, Is.EqualTo(0));
        Assert.That(waiting.WaitForExit(Deadline.Seconds(60)), Is.True);
        string rest = waiting.StandardOutput.ReadToEnd();
        Assert.That(waiting.ExitCode, Is.EqualTo(1), rest);
        Assert.That(rest, Does.Contain(cancelled + " cancelled"));

        var refused = Ctl.Run(tree, "plan", "submit", "--wait", Write(tree, Seq(Exec("missing"))));
        Assert.That(refused.Exit, Is.EqualTo(1), refused.ToString());
        Assert.That(refused.Err, Does.Contain("$.work[0].command"));
        Stop(tree, d);
    }
}
