using System.Text.RegularExpressions;
using Chaqum.Tests.Control;
using static Chaqum.Tests.Plans.PlanRig;

namespace Chaqum.Tests.Plans;

/// <summary>The rules of plans (docs/plans.md) with a real daemon and real steps: every
/// wait is for a file a step writes or for what plan show says.</summary>
[TestFixture, CancelAfter(180_000)]
public class PlanRuleTests
{
    [Test]
    public void A_sequence_runs_its_steps_in_order_and_each_step_shows_its_plan_and_place()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "");
        string id = Submit(tree, Seq(Exec("mark a"), """{"type": "execute", "name": "the gate", "command": ["gate", "b"]}""", Exec("mark c")));
        WaitStarted(tree, "b");

        var ps = Ctl.Run(tree, "ps");
        Assert.That(ps.Out, Does.Match(@"gate/\d+\s+running.*" + Regex.Escape(id + " > the gate")), ps.ToString());
        Assert.That(ps.Out, Does.Match(@"mark/\d+\s+pending.*" + Regex.Escape(id + " > mark c")), ps.ToString());
        var running = Show(tree, id);
        Assert.That(State(running), Is.EqualTo("running"));
        Assert.That(NodeState(running, "$.work[0]"), Is.EqualTo("succeeded"));
        Assert.That(NodeState(running, "$.work[1]"), Is.EqualTo("running"));
        Assert.That(NodeState(running, "$.work[2]"), Is.EqualTo("pending"));
        string gate = Node(running, "$.work[1]")["job"]!.GetValue<string>();
        var show = Ctl.Run(tree, "show", gate);
        Assert.That(show.Out, Does.Contain($"plan         {id} > the gate"), show.ToString());
        d.WaitForLine(Regex.Escape(gate) + @": started, pid \d+ \[" + Regex.Escape(id) + " > the gate\\]");

        Go(tree, "b");
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("succeeded"), ended.ToJsonString());
        Assert.That(Order(tree), Is.EqualTo(new[] { "a", "start b", "b", "c" }));
        Assert.That(Node(ended, "$.work[2]")["status"]!.GetValue<string>(), Is.EqualTo("0"));
        Assert.That(ended["steps_ended"]!.GetValue<int>(), Is.EqualTo(3));
        Stop(tree, d);
    }

    [Test]
    public void A_step_finds_its_plan_and_its_place_in_the_document_in_its_environment()
    {
        using var tree = new TempTree();
        Scripts(tree);
        tree.Script("where", "echo \"$CHAQUM_PLAN $CHAQUM_PLAN_STEP\" >> where.out\n");
        using var d = Ctl.Daemon(tree, "");
        string id = Submit(tree, Seq(Exec("mark a"), Par(Exec("mark b"), Exec("where"))));
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("succeeded"), ended.ToJsonString() + "\n" + d.Log);
        Assert.That(File.ReadAllText(Path.Combine(tree.Root, "where.out")), Is.EqualTo($"{id} $.work[1].work[1]\n"));
        Stop(tree, d);
    }

    [Test]
    public void Groups_nested_three_deep_keep_every_order_the_document_gives()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "");
        // seq[ par[ seq[a, par[b, c]], d ], e ]: b and c after a; e after all of them.
        string id = Submit(tree, Seq(Par(Seq(Exec("mark a"), Par(Exec("mark b"), Exec("mark c"))), Exec("mark d")), Exec("mark e")));
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("succeeded"), ended.ToJsonString());
        var order = Order(tree).ToList();
        Assert.That(order, Is.EquivalentTo(new[] { "a", "b", "c", "d", "e" }));
        Assert.That(order.IndexOf("a"), Is.LessThan(order.IndexOf("b")));
        Assert.That(order.IndexOf("a"), Is.LessThan(order.IndexOf("c")));
        Assert.That(order[^1], Is.EqualTo("e"));
        Assert.That(Node(ended, "$.work[0].work[0].work[1].work[1]")["depth"]!.GetValue<int>(), Is.EqualTo(4));

        var drawn = Ctl.Run(tree, "plan", "show", id);
        Assert.That(drawn.Exit, Is.EqualTo(0), drawn.ToString());
        Assert.That(drawn.Out, Does.Contain(id + ": succeeded"));
        Assert.That(drawn.Out, Does.Match(@"│  │  └─ 1 parallel\s+succeeded"), drawn.Out);
        Assert.That(drawn.Out, Does.Match(@"└─ mark e\s+mark/\d+\s+succeeded\s+\S+\s+0"), drawn.Out);
        Stop(tree, d);
    }

    [Test]
    public void The_first_failure_of_a_sequence_leaves_the_rest_unrun_and_says_why()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "");
        string id = Submit(tree, Seq(Exec("mark a"), Exec("fail b 5"), Exec("mark c"), Par(Exec("mark d"), Exec("mark e"))));
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("failed"));
        Assert.That(Order(tree), Is.EqualTo(new[] { "a", "b" }));
        string failed = Node(ended, "$.work[1]")["job"]!.GetValue<string>();
        Assert.That(ended["failed_step"]!.GetValue<string>(), Is.EqualTo(failed));
        Assert.That(ended["failed_path"]!.GetValue<string>(), Is.EqualTo($"{id} > fail b 5"));
        Assert.That(ended["reason"]!.GetValue<string>(), Does.Contain("exit 5"));
        Assert.That(NodeState(ended, "$.work[1]"), Is.EqualTo("failed"));
        Assert.That(Node(ended, "$.work[1]")["status"]!.GetValue<string>(), Is.EqualTo("5"));
        Assert.That(NodeState(ended, "$.work[2]"), Is.EqualTo("not run"));
        Assert.That(Node(ended, "$.work[2]")["reason"]!.GetValue<string>(), Does.Contain(failed).And.Contain("exit 5"));
        Assert.That(NodeState(ended, "$.work[3]"), Is.EqualTo("not run"));
        Assert.That(NodeState(ended, "$"), Is.EqualTo("failed"));
        Stop(tree, d);
    }

    [Test]
    public void A_failed_branch_of_a_parallel_group_lets_the_others_finish_and_fails_the_plan()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "");
        string id = Submit(tree, Seq(Par(Exec("gate slow"), Seq(Exec("fail bad"), Exec("mark after-bad"))), Exec("mark last")));
        WaitStarted(tree, "slow");
        Poll.Until(() => Order(tree).Contains("bad"), "the failing branch to run");
        // The failure is known, but the other branch still runs: the plan waits for it.
        Poll.Until(() => NodeState(Show(tree, id), "$.work[1]") == "not run", "the step after the group to be left unrun");
        Assert.That(State(Show(tree, id)), Is.EqualTo("running"));
        Go(tree, "slow");
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("failed"));
        Assert.That(ended["failed_path"]!.GetValue<string>(), Is.EqualTo($"{id} > 0 > 1 > fail bad"));
        Assert.That(NodeState(ended, "$.work[0].work[0]"), Is.EqualTo("succeeded"));
        Assert.That(NodeState(ended, "$.work[0].work[1].work[1]"), Is.EqualTo("not run"));
        Assert.That(NodeState(ended, "$.work[0]"), Is.EqualTo("failed"));
        Assert.That(Order(tree), Does.Not.Contain("last").And.Not.Contain("after-bad").And.Contain("slow"));
        Stop(tree, d);
    }

    [Test]
    public void A_step_that_outlives_its_timeout_is_killed_with_the_child_that_ignores_SIGTERM()
    {
        using var tree = new TempTree();
        Scripts(tree);
        // The child ignores TERM (and notes its pid); the step waits for it.
        tree.Script("stubborn", "sh -c 'trap \"\" TERM; echo $$ > child.pid; while :; do sleep 0.1; done' &\nwait\n");
        using var d = Ctl.Daemon(tree, "");
        string id = Submit(tree, Seq("""{"type": "execute", "command": ["stubborn"], "timeout": 0.5}""", Exec("mark never")));
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("failed"));
        // The shell dies of the TERM; its child, which ignores it, gets KILL after the grace.
        Assert.That(ended["reason"]!.GetValue<string>(), Does.Contain("timed out"));
        Assert.That(Node(ended, "$.work[0]")["status"]!.GetValue<string>(), Is.EqualTo("-15"));
        int child = int.Parse(tree.Read("child.pid").Trim());
        Poll.Until(() => !Directory.Exists($"/proc/{child}") || File.ReadAllText($"/proc/{child}/stat").Contains(") Z "), "the child to be gone");
        Assert.That(Order(tree), Does.Not.Contain("never"));
        Stop(tree, d);
    }

    [Test]
    public void Killing_one_step_by_hand_fails_the_plan_as_its_failure_would()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "");
        string id = Submit(tree, Seq(Exec("gate a"), Exec("mark b")));
        WaitStarted(tree, "a");
        string job = Node(Show(tree, id), "$.work[0]")["job"]!.GetValue<string>();
        Assert.That(Ctl.Run(tree, "kill", "--yes", job).Exit, Is.EqualTo(0));
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("failed"));
        Assert.That(ended["failed_step"]!.GetValue<string>(), Is.EqualTo(job));
        Assert.That(ended["reason"]!.GetValue<string>(), Does.Contain("killed").And.Contain("SIGTERM"));
        Assert.That(NodeState(ended, "$.work[1]"), Is.EqualTo("not run"));
        Stop(tree, d);
    }

    [Test]
    public void A_role_capped_at_one_runs_its_steps_one_at_a_time_even_in_a_parallel_group()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "cmd 'group -m 1 -- convert'");
        d.WaitForLine(@"init\[out\] reply: S$");
        string id = Submit(tree, """
            {"type": "parallel_group", "role": "convert", "work": [
              {"type": "execute", "command": "gate x"}, {"type": "execute", "command": "gate y"},
              {"type": "execute", "command": "gate z"},
              {"type": "execute", "role": "other", "command": "mark free"}]}
            """);
        var names = new[] { "x", "y", "z" };
        for (int round = 0; round < 3; round++)
        {
            Poll.Until(() => Order(tree).Count(l => l.StartsWith("start ")) == round + 1, $"step {round + 1} of the role to start");
            var view = Show(tree, id);
            var states = Enumerable.Range(0, 3).Select(i => NodeState(view, $"$.work[{i}]")).ToList();
            Assert.That(states.Count(s => s == "running"), Is.EqualTo(1), string.Join(",", states));
            Assert.That(Node(view, "$.work[0]")["role"]!.GetValue<string>(), Is.EqualTo("convert"));
            string started = Order(tree).Last(l => l.StartsWith("start "))[6..];
            Go(tree, started);
            names = names.Where(n => n != started).ToArray();
        }
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("succeeded"));
        Assert.That(Node(ended, "$.work[3]")["role"]!.GetValue<string>(), Is.EqualTo("other"));
        var groups = Ctl.Run(tree, "groups", "--json");
        Assert.That(groups.Out, Does.Contain("\"convert\""), groups.ToString());
        Stop(tree, d);
    }

    [Test]
    public void A_role_is_inherited_and_default_role_fills_in_where_none_is_given()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "");
        string id = Submit(tree, """
            {"type": "sequence_group", "default_role": "misc", "work": [
              {"type": "execute", "command": "mark a"},
              {"type": "parallel_group", "role": "img", "work": [{"type": "execute", "command": "mark b"},
                 {"type": "sequence_group", "work": [{"type": "execute", "command": "mark c", "role": "solo"}]}]}]}
            """);
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("succeeded"));
        Assert.That(Node(ended, "$.work[0]")["role"]!.GetValue<string>(), Is.EqualTo("misc"));
        Assert.That(Node(ended, "$.work[1].work[0]")["role"]!.GetValue<string>(), Is.EqualTo("img"));
        Assert.That(Node(ended, "$.work[1].work[1].work[0]")["role"]!.GetValue<string>(), Is.EqualTo("solo"));
        var history = Ctl.Run(tree, "history", "--json");
        Assert.That(history.Out, Does.Contain("\"group\": \"img\""), history.ToString());
        Stop(tree, d);
    }

    [Test]
    public void Retries_priority_and_key_reach_the_step_jobs()
    {
        using var tree = new TempTree();
        Scripts(tree);
        // Fails the first time, succeeds the second.
        tree.Script("flaky", "if [ -e tried ]; then echo flaky >> order; exit 0; fi\ntouch tried\nexit 1\n");
        using var d = Ctl.Daemon(tree, "");
        string id = Submit(tree, """
            {"type": "sequence_group", "work": [
              {"type": "execute", "command": ["flaky"], "retries": 2},
              {"type": "execute", "command": ["gate", "k"], "key": "the-key", "priority": 7, "timeout": 600}]}
            """);
        WaitStarted(tree, "k");
        var view = Show(tree, id);
        string job = Node(view, "$.work[1]")["job"]!.GetValue<string>();
        var show = Ctl.Run(tree, "show", "--json", job).Json;
        Assert.That(show["key"]!.GetValue<string>(), Is.EqualTo("the-key"));
        Assert.That(show["priority"]!.GetValue<int>(), Is.EqualTo(7));
        Assert.That(show["timeout_seconds"]!.GetValue<double>(), Is.EqualTo(600));
        Go(tree, "k");
        var ended = Ended(tree, id);
        Assert.That(State(ended), Is.EqualTo("succeeded"));
        Assert.That(Order(tree)[0], Is.EqualTo("flaky"));
        Stop(tree, d);
    }
}
