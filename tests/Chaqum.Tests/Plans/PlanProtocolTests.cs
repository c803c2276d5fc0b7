using Chaqum.Tests.Control;
using static Chaqum.Tests.Plans.PlanRig;

namespace Chaqum.Tests.Plans;

/// <summary>The plan and waitplan verbs over fds 3/4 (docs/protocol.md).</summary>
[TestFixture, CancelAfter(180_000)]
public class PlanProtocolTests
{
    private const string Submit = """
        submit() {
          printf 'plan -- %s\n' "$(printf '%s' "$1" | wc -c)" >&3; printf '%s\n' "$1" >&3
          IFS= read -r REPLY <&4; printf 'reply: %s\n' "$REPLY"
        }

        """;

    [Test]
    public void A_job_submits_plans_and_waits_for_them_with_waitplan()
    {
        using var tree = new TempTree();
        Scripts(tree);
        string ok = Seq(Exec("mark a"), Par(Exec("mark b"), Exec("mark c")));
        string bad = Seq(Exec("fail x"), Exec("mark never"));
        string gated = Seq(Exec("gate g"));
        var output = Chaqum.Tests.Daemon.Sh.InitOutput(tree, Submit + $$"""
            submit '{{ok}}'; good=$(word 2)
            cmd "waitplan -- $good"
            submit '{{bad}}'; bad=$(word 2)
            cmd "waitplan -t 60 -- $bad"
            submit '{{gated}}'; gated=$(word 2)
            cmd "waitplan -t 0 -- $gated"
            cmd "waitplan -t 0.2 -- $gated"
            touch go.g
            cmd "waitplan -- $gated"
            echo "parent of a step: $(grep -c . order)"
            """);
        Assert.That(output[0], Does.Match(@"^reply: S plan/\d+$"), string.Join("\n", output));
        string good = output[0].Split(' ')[2];
        Assert.That(output[1], Is.EqualTo($"reply: S {good} succeeded"));
        string failed = output[2].Split(' ')[2];
        Assert.That(output[3], Is.EqualTo($"reply: S {failed} failed"));
        string gatedId = output[4].Split(' ')[2];
        Assert.That(output[5], Is.EqualTo($"reply: S {gatedId} T"));
        Assert.That(output[6], Is.EqualTo($"reply: S {gatedId} T"));
        Assert.That(output[7], Is.EqualTo($"reply: S {gatedId} succeeded"));
        // Plan ids come from the job numbers: each larger than the last, never reused.
        var numbers = new[] { good, failed, gatedId }.Select(i => int.Parse(i["plan/".Length..])).ToList();
        Assert.That(numbers, Is.Ordered.Ascending);
        Assert.That(numbers.Distinct().Count(), Is.EqualTo(3));
    }

    [Test]
    public void A_waitplan_of_a_job_that_exits_is_abandoned_and_the_plan_goes_on()
    {
        using var tree = new TempTree();
        Scripts(tree);
        string gated = Seq(Exec("gate h"), Exec("mark after"));
        tree.Script("init", Chaqum.Tests.Daemon.Sh.Script(Submit + $$"""
            submit '{{gated}}'
            printf 'waitplan -- %s\n' "$(word 2)" >&3
            exit 0
            """));
        using var d = DaemonProcess.Start(tree);
        d.WaitForLine(@"init: exited: exit 0");
        WaitStarted(tree, "h");
        Go(tree, "h");
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        Assert.That(Order(tree), Is.EqualTo(new[] { "start h", "h", "after" }));
        Assert.That(d.Log, Does.Match(@"plan/\d+: succeeded"));
    }
}
