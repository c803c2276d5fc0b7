using Chaqum.Tests.Control;
using static Chaqum.Tests.Plans.PlanRig;

namespace Chaqum.Tests.Plans;

/// <summary>Plans and the daemon's end: the history keeps every plan; a kill -9 leaves
/// the plans it ran recorded lost, with the steps that had ended; an orderly stop ends
/// them cancelled, and no step of theirs comes back with the next start.</summary>
[TestFixture, CancelAfter(240_000)]
public class PlanRecoveryTests
{
    private static string Plan3 => Seq(Exec("mark a"), Exec("gate b"), Exec("mark c"));

    [Test]
    public void The_history_lists_plans_with_outcome_runtime_and_failed_step()
    {
        using var tree = new TempTree();
        Scripts(tree);
        using var d = Ctl.Daemon(tree, "");
        string good = Submit(tree, """{"type": "sequence_group", "name": "nightly", "work": [{"type": "execute", "command": "mark a"}]}""");
        Assert.That(State(Ended(tree, good)), Is.EqualTo("succeeded"));
        string bad = Submit(tree, Seq(Exec("mark x"), Exec("fail y 2")));
        var ended = Ended(tree, bad);
        string failedJob = ended["failed_step"]!.GetValue<string>();
        Stop(tree, d);

        // Read without a daemon, from the state directory.
        var plans = Ctl.Run(tree, "history", "--plans", "--json");
        Assert.That(plans.Exit, Is.EqualTo(0), plans.ToString());
        var list = plans.Json.AsArray();
        Assert.That(list.Select(p => p!["id"]!.GetValue<string>()), Is.EqualTo(new[] { good, bad }));
        Assert.That(list[0]!["outcome"]!.GetValue<string>(), Is.EqualTo("succeeded"));
        Assert.That(list[0]!["name"]!.GetValue<string>(), Is.EqualTo("nightly"));
        Assert.That(list[0]!["runtime_seconds"]!.GetValue<double>(), Is.GreaterThanOrEqualTo(0));
        Assert.That(list[1]!["outcome"]!.GetValue<string>(), Is.EqualTo("failed"));
        Assert.That(list[1]!["failed_step"]!.GetValue<string>(), Is.EqualTo(failedJob));
        Assert.That(list[1]!["failed_path"]!.GetValue<string>(), Is.EqualTo($"{bad} > fail y 2"));
        Assert.That(list[1]!["steps"]!.GetValue<int>(), Is.EqualTo(2));

        var failedOnly = Ctl.Run(tree, "history", "--plans", "--failed");
        Assert.That(failedOnly.Out, Does.Contain(bad).And.Not.Contain(good + " "), failedOnly.ToString());
        var runs = Ctl.Run(tree, "history", "--json").Json.AsArray();
        Assert.That(runs.Where(r => r!["plan"]?.GetValue<string>() == bad).Select(r => r!["id"]!.GetValue<string>()),
            Does.Contain(failedJob));
    }

    [Test]
    public void After_a_kill_9_the_plans_it_ran_are_lost_with_the_steps_that_had_ended()
    {
        using var tree = new TempTree();
        Scripts(tree);
        string id;
        using (var first = Ctl.Daemon(tree, ""))
        {
            id = Submit(tree, Plan3);
            WaitStarted(tree, "b");
            Poll.Until(() => NodeState(Show(tree, id), "$.work[0]") == "succeeded", "step a recorded");
            first.Signal(9);
            first.WaitForExit();
        }
        // The gate step (killed by the recovery, or by the test's cleanup above) never ends by itself.
        using var second = Ctl.Daemon(tree, "");
        second.WaitForLine(@"lost: " + System.Text.RegularExpressions.Regex.Escape(id) + ": 1 of 3 steps had ended");
        var plans = Ctl.Run(tree, "history", "--plans", "--json").Json.AsArray();
        var lost = plans.Single(p => p!["id"]!.GetValue<string>() == id)!;
        Assert.That(lost["outcome"]!.GetValue<string>(), Is.EqualTo("lost"));
        Assert.That(lost["steps_ended"]!.GetValue<int>(), Is.EqualTo(1));
        // No step comes back: c was waiting, and is recorded lost with b.
        Assert.That(second.Log, Does.Not.Contain("resumed"));
        var steps = Ctl.Run(tree, "history", "--json").Json.AsArray().Where(r => r!["plan"]?.GetValue<string>() == id).ToList();
        Assert.That(steps.Select(s => s!["outcome"]!.GetValue<string>()), Is.EquivalentTo(new[] { "exited", "lost", "lost" }));
        Assert.That(Ctl.Run(tree, "plan", "list", "--json").Json["plans"]!.AsArray(), Is.Empty);

        // Plan numbers are never reused after a crash.
        string next = Submit(tree, Seq(Exec("mark d")));
        Assert.That(int.Parse(next["plan/".Length..]), Is.GreaterThan(int.Parse(id["plan/".Length..])));
        Assert.That(State(Ended(tree, next)), Is.EqualTo("succeeded"));
        Assert.That(Order(tree), Does.Not.Contain("c"));
        Stop(tree, second);
    }

    [Test]
    public void An_orderly_stop_ends_running_plans_cancelled_and_keeps_none_of_their_steps()
    {
        using var tree = new TempTree();
        Scripts(tree);
        string id;
        using (var first = Ctl.Daemon(tree, ""))
        {
            id = Submit(tree, Plan3);
            WaitStarted(tree, "b");
            first.Signal(15);
            Assert.That(first.WaitForExit(), Is.EqualTo(0), first.Log);
            Assert.That(first.Log, Does.Match(System.Text.RegularExpressions.Regex.Escape(id) + @": cancelled after \S+: the daemon stopped"));
        }
        var plans = Ctl.Run(tree, "history", "--plans", "--json").Json.AsArray();
        Assert.That(plans.Single()!["outcome"]!.GetValue<string>(), Is.EqualTo("cancelled"));
        Assert.That(plans.Single()!["reason"]!.GetValue<string>(), Is.EqualTo("the daemon stopped"));

        using var second = Ctl.Daemon(tree, "");
        Assert.That(second.Log, Does.Not.Contain("resumed").And.Not.Contain("lost"));
        string next = Submit(tree, Seq(Exec("mark d")));
        Assert.That(State(Ended(tree, next)), Is.EqualTo("succeeded"));
        Assert.That(Order(tree), Is.EqualTo(new[] { "a", "start b", "d" }));
        Stop(tree, second);
    }
}
