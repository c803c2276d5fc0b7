using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Chaqum.Tests.Control;
using Chaqum.Tests.Daemon;
using static Chaqum.Tests.Plans.PlanRig;

namespace Chaqum.Tests.Cluster;

/// <summary>
/// A plan's roles in Slurm groups on the real two-node loopback cluster: each role gets
/// one node (one allocation, salloc --no-shell --exclusive) before the first step, every
/// step of the role runs inside it, and the allocations are given back however the plan
/// ends: succeeded, cancelled, refused, stopped, or the daemon killed. The cluster is
/// shared with other runs, so an allocation may wait in the queue: every wait is for a
/// gate (a file a step writes, a log line, the plan's end), never for a time.
/// </summary>
[TestFixture, CancelAfter(300_000)]
public class SlurmRoleTests
{
    [SetUp]
    public void Cluster() => SlurmCluster.Require();

    /// <summary>Cancels what a failed test left on the cluster (before the tree goes).</summary>
    private sealed class Cleanup(TempTree tree) : IDisposable
    {
        public void Dispose() => SlurmCluster.CancelAll(tree);
    }

    /// <summary>A daemon whose init sets up the groups, prints "ready", and runs until the
    /// file "stop" exists (or at once, after a crash: CHAQUM_RECOVERED).</summary>
    private static DaemonProcess Start(TempTree tree, string groups)
    {
        tree.Script("init", Sh.Script(groups + """

            echo ready
            [ -n "$CHAQUM_RECOVERED" ] && exit 0
            while [ ! -e stop ]; do sleep 0.05; done
            """));
        var d = DaemonProcess.Start(tree, Array.Empty<string>(), SlurmCluster.Environment);
        d.WaitForLine(@"init\[out\] ready$", TimeSpan.FromSeconds(120));
        return d;
    }

    /// <summary>where NAME: writes "NODE SLURMD_NODENAME SLURM_JOB_ID SLURM_STEP_ID" to
    /// at-NAME. pair NAME OTHER: the same, then waits until OTHER has written its own (so
    /// both ran at once). gate NAME: notes "start NAME" in order, waits for go.NAME.</summary>
    private static void Steps(TempTree tree)
    {
        Scripts(tree);
        tree.Script("where", "echo \"$CHAQUM_NODE $SLURMD_NODENAME $SLURM_JOB_ID $SLURM_STEP_ID\" > \"at-$1\"\n");
        tree.Script("pair", "echo \"$CHAQUM_NODE $SLURMD_NODENAME $SLURM_JOB_ID $SLURM_STEP_ID\" > \"at-$1\"\nwhile [ ! -e \"at-$2\" ]; do sleep 0.05; done\n");
    }

    private static string[] At(TempTree tree, string name) => tree.Read("at-" + name).Trim().Split(' ');

    private static JsonNode WaitEnded(TempTree tree, string id) =>
        Poll.Until(() => Show(tree, id) is var v && State(v) != "running" ? v : null, $"{id} to end", TimeSpan.FromSeconds(240));

    /// <summary>slurmctld knows no job or allocation of the tree (while the daemon runs on).</summary>
    private static void AssertNoSlurmJob(TempTree tree) =>
        Poll.Until(() => SlurmCluster.JobsOf(tree).Count == 0,
            () => $"slurmctld to forget the tree's allocations; left: {string.Join("; ", SlurmCluster.JobsOf(tree))}");

    /// <summary>Nothing of the tree runs anywhere: no process here (the nodes' are this
    /// machine's on loopback) and no job or allocation known to slurmctld.</summary>
    private static void AssertNothingLeft(TempTree tree)
    {
        Poll.Until(() => ProcessCleanup.Living(tree.Root).Count == 0,
            () => $"every process of the tree to end; left: {string.Join(", ", ProcessCleanup.Living(tree.Root))}");
        Poll.Until(() => SlurmCluster.JobsOf(tree).Count == 0,
            () => $"slurmctld to forget the tree's allocations; left: {string.Join("; ", SlurmCluster.JobsOf(tree))}");
    }

    [Test]
    public void A_plan_with_two_roles_runs_every_step_of_each_role_on_that_role_s_own_node_and_gives_both_back()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        Steps(tree);
        using var d = Start(tree, """
            cmd 'group -x slurm -m 2 a'
            cmd 'group -x slurm:main b'
            """);
        string id = Submit(tree, """
            {"type": "sequence_group", "name": "roles", "work": [
              {"type": "execute", "role": "a", "command": "where a1"},
              {"type": "parallel_group", "work": [
                {"type": "execute", "role": "a", "command": "pair a2 a3"},
                {"type": "execute", "role": "a", "command": "pair a3 a2"},
                {"type": "execute", "role": "b", "command": "where b1"},
                {"type": "execute", "role": "b", "command": "where b2"}
              ]},
              {"type": "execute", "role": "b", "command": "where b3"},
              {"type": "execute", "role": "a", "command": "where a4"}
            ]}
            """);
        var ended = WaitEnded(tree, id);
        Assert.That(State(ended), Is.EqualTo("succeeded"), ended.ToJsonString() + "\n" + d.Log);

        // One node and one allocation per role, each step a step of it, the two roles apart.
        var a = new[] { "a1", "a2", "a3", "a4" }.Select(n => At(tree, n)).ToList();
        var b = new[] { "b1", "b2", "b3" }.Select(n => At(tree, n)).ToList();
        foreach (var at in a.Concat(b)) Assert.That(at[0], Is.EqualTo(at[1]), "CHAQUM_NODE is the node Slurm ran it on");
        Assert.That(a.Select(at => at[0]).Distinct().Count(), Is.EqualTo(1), "every step of role a on one node");
        Assert.That(b.Select(at => at[0]).Distinct().Count(), Is.EqualTo(1), "every step of role b on one node");
        Assert.That(a[0][0], Is.Not.EqualTo(b[0][0]), "each role on a node of its own");
        Assert.That(a.Select(at => at[2]).Distinct().Count(), Is.EqualTo(1), "role a's steps in one allocation");
        Assert.That(b.Select(at => at[2]).Distinct().Count(), Is.EqualTo(1), "role b's steps in one allocation");
        Assert.That(a.Select(at => at[3]).Distinct().Count(), Is.EqualTo(4), "each a step of its own");

        var allocations = ended["allocations"]!.AsArray();
        Assert.That(allocations.Select(x => x!["role"]!.GetValue<string>()), Is.EqualTo(new[] { "a", "b" }));
        Assert.That(allocations.Select(x => x!["state"]!.GetValue<string>()), Is.All.EqualTo("released"));
        var allocA = allocations[0]!;
        Assert.That((allocA["slurm_job"]!.GetValue<string>(), allocA["node"]!.GetValue<string>()), Is.EqualTo((a[0][2], a[0][0])));
        Assert.That(d.Log, Does.Match($@"{Regex.Escape(id)}: every role has its node \(a: node {a[0][0]}, Slurm job {a[0][2]}, b: node {b[0][0]}, Slurm job {b[0][2]}\)"));
        Assert.That(d.Log, Does.Match($@"{Regex.Escape(id)}: role a: released node {a[0][0]}, Slurm job {a[0][2]}"));
        Assert.That(d.Log, Does.Match($@"where/\d+: running on slurm, node {a[0][0]}, Slurm step {a[0][2]}\.\d+"));
        // The step's id is what the history keeps: ALLOC.STEP.
        var history = Ctl.Run(tree, "history", "--json").Json.AsArray().Where(r => r!["script"]!.GetValue<string>() == "where").ToList();
        Assert.That(history.Select(r => r!["external_id"]!.GetValue<string>()), Has.All.Match($@"^({a[0][2]}|{b[0][2]})\.\d+$"));
        // Given back as the plan ended: nothing of the tree is left in Slurm's queue.
        AssertNoSlurmJob(tree);
        Stop(tree, d);
        AssertNothingLeft(tree);
    }

    [Test]
    public void Killing_one_step_of_a_role_signals_that_step_only_and_cancelling_the_plan_ends_the_rest_and_releases_the_nodes()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        Steps(tree);
        tree.Script("beat", "echo \"start $1\" >> order\nwhile :; do date +%s%N > \"beat-$1\"; sleep 0.05; done\n");
        using var d = Start(tree, """
            cmd 'group -x slurm -m 3 a'
            cmd 'group -x slurm b'
            """);
        string id = Submit(tree, """
            {"type": "parallel_group", "work": [
              {"type": "execute", "role": "a", "command": "beat one"},
              {"type": "execute", "role": "a", "command": "beat two"},
              {"type": "execute", "role": "b", "command": "beat three"}
            ]}
            """);
        Poll.Until(() => Order(tree).Length == 3, () => "all three steps to run. Log:\n" + d.Log, TimeSpan.FromSeconds(240));
        var view = Show(tree, id);
        string one = Node(view, "$.work[0]")["job"]!.GetValue<string>();
        Assert.That(Ctl.Run(tree, "kill", one).Exit, Is.EqualTo(0));
        Poll.Until(() => Node(Show(tree, id), "$.work[0]")["status"]?.GetValue<string>() == "-15", $"{one} to end by its SIGTERM");
        // Its sibling in the same allocation got nothing: it still beats.
        string before = tree.Read("beat-two");
        Poll.Until(() => tree.Read("beat-two") != before, "step two to keep running after its sibling was killed");
        Assert.That(NodeState(Show(tree, id), "$.work[1]"), Is.EqualTo("running"));

        Assert.That(Ctl.Run(tree, "plan", "cancel", id).Exit, Is.EqualTo(0));
        var ended = WaitEnded(tree, id);
        Assert.That(State(ended), Is.EqualTo("failed"), "the killed step failed it first; the cancel ended the rest");
        Assert.That(Node(ended, "$.work[1]")["status"]!.GetValue<string>(), Is.EqualTo("-15"));
        Assert.That(Node(ended, "$.work[2]")["status"]!.GetValue<string>(), Is.EqualTo("-15"));
        Assert.That(ended["allocations"]!.AsArray().Select(x => x!["state"]!.GetValue<string>()), Is.All.EqualTo("released"));
        AssertNoSlurmJob(tree);
        Stop(tree, d);
        AssertNothingLeft(tree);
    }

    [Test]
    public void A_role_whose_node_Slurm_refuses_fails_the_plan_with_what_salloc_said_and_no_step_runs()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        Steps(tree);
        using var d = Start(tree, """
            cmd 'group -x slurm a'
            cmd "group -x slurm -X '--constraint=nosuchfeature' c"
            """);
        string id = Submit(tree, Seq(
            """{"type": "execute", "role": "a", "command": "mark a"}""",
            """{"type": "execute", "role": "c", "command": "mark c"}"""));
        var ended = WaitEnded(tree, id);
        Assert.That(State(ended), Is.EqualTo("failed"), ended.ToJsonString());
        Assert.That(ended["reason"]!.GetValue<string>(), Does.Match(@"^role c: no node allocated: salloc: error: .*Invalid feature specification"));
        Assert.That(ended["failed_step"], Is.Null);
        Assert.That(NodeState(ended, "$.work[0]"), Is.EqualTo("not run"));
        Assert.That(NodeState(ended, "$.work[1]"), Is.EqualTo("not run"));
        var states = ended["allocations"]!.AsArray().ToDictionary(x => x!["role"]!.GetValue<string>(), x => x!["state"]!.GetValue<string>());
        Assert.That(states["c"], Is.EqualTo("failed"));
        Assert.That(states["a"], Is.AnyOf("withdrawn", "released"), "a's request is given up, or its node given back");
        Assert.That(Order(tree), Is.Empty, "no step ran");
        Assert.That(d.Log, Does.Match($@"WRN {Regex.Escape(id)}: failed after .*: role c: no node allocated"));
        var history = Ctl.Run(tree, "history", "--plans", "--json").Json.AsArray().Single(p => p!["id"]!.GetValue<string>() == id)!;
        Assert.That(history["outcome"]!.GetValue<string>(), Is.EqualTo("failed"));
        AssertNoSlurmJob(tree);
        Stop(tree, d);
        AssertNothingLeft(tree);
    }

    [Test]
    public void A_plan_waiting_for_a_role_s_node_says_so_and_an_orderly_stop_withdraws_it_and_gives_back_the_other()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        Steps(tree);
        // --begin an hour from now: b's allocation stays pending for as long as the test needs.
        using var d = Start(tree, """
            cmd 'group -x slurm a'
            cmd "group -x slurm -X '--begin=now+3600' b"
            """);
        string id = Submit(tree, Par(
            """{"type": "execute", "role": "a", "command": "mark a"}""",
            """{"type": "execute", "role": "b", "command": "mark b"}"""));
        Poll.Until(() => SlurmCluster.JobsOf(tree).Any(j => j.Contains($":{id}:b PENDING", StringComparison.Ordinal)),
            () => "b's allocation to be pending. Log:\n" + d.Log, TimeSpan.FromSeconds(120));
        var view = Show(tree, id);
        Assert.That(State(view), Is.EqualTo("running"));
        Assert.That(NodeState(view, "$.work[1]"), Is.EqualTo("waiting"));
        var show = Ctl.Run(tree, "plan", "show", id);
        Assert.That(show.Lines[0], Does.Match($@"^{Regex.Escape(id)}: running after .*, allocating nodes for role.* b, 0/2 steps ended$"), show.ToString());
        Assert.That(show.Out, Does.Contain("role b: allocating"));

        d.Signal(15);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), d.Log);
        Assert.That(d.Log, Does.Match($@"{Regex.Escape(id)}: role b: request withdrawn"));
        Assert.That(d.Log, Does.Match($@"{Regex.Escape(id)}: cancelled after .*: the daemon stopped"));
        Assert.That(Order(tree), Is.Empty, "no step ran");
        AssertNothingLeft(tree);
        var history = Ctl.Run(tree, "history", "--plans", "--json").Json.AsArray().Single(p => p!["id"]!.GetValue<string>() == id)!;
        Assert.That(history["outcome"]!.GetValue<string>(), Is.EqualTo("cancelled"));
    }

    [Test]
    public void After_a_kill_9_during_a_role_plan_the_next_start_cancels_its_allocations_granted_and_pending()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        Steps(tree);
        const string groups = """
            cmd 'group -x slurm a'
            cmd "group -x slurm -X '--begin=now+3600' b"
            """;
        string id, granted;
        using (var d = Start(tree, groups))
        {
            id = Submit(tree, Par(
                """{"type": "execute", "role": "a", "command": "gate a"}""",
                """{"type": "execute", "role": "b", "command": "mark b"}"""));
            var line = d.WaitForLine($@"{Regex.Escape(id)}: role a: granted .*Slurm job \d+", TimeSpan.FromSeconds(240));
            granted = Regex.Match(line, @"Slurm job (\d+)").Groups[1].Value;
            Poll.Until(() => SlurmCluster.JobsOf(tree).Any(j => j.Contains($":{id}:b PENDING", StringComparison.Ordinal)),
                () => "b's allocation to be pending. Log:\n" + d.Log, TimeSpan.FromSeconds(120));
            d.Signal(9);
            d.WaitForExit();
        }
        // The daemon is gone; its allocations are not.
        Assert.That(SlurmCluster.JobsOf(tree), Has.Some.StartsWith(granted + " "));
        Assert.That(SlurmCluster.JobsOf(tree), Has.Some.Contains($":{id}:b PENDING"));
        File.WriteAllText(tree.PathOf("stop"), "");
        using (var again = DaemonProcess.Start(tree, Array.Empty<string>(), SlurmCluster.Environment))
        {
            Assert.That(again.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), again.Log);
            Assert.That(again.Log, Does.Match($@"{Regex.Escape(id)}: cancelled Slurm allocation {granted} of role a left by the last run"));
            Assert.That(again.Log, Does.Match($@"{Regex.Escape(id)}: cancelled the Slurm allocation named chaqum:{Regex.Escape(tree.Root)}:{Regex.Escape(id)}:b of role b left by the last run"));
            Assert.That(again.Log, Does.Match($@"lost: {Regex.Escape(id)}: 0 of 2 steps had ended"));
        }
        AssertNothingLeft(tree);
        var history = Ctl.Run(tree, "history", "--plans", "--json").Json.AsArray().Single(p => p!["id"]!.GetValue<string>() == id)!;
        Assert.That(history["outcome"]!.GetValue<string>(), Is.EqualTo("lost"));
    }
}
