using System.Text.RegularExpressions;
using Chaqum.Tests.Control;
using Chaqum.Tests.Daemon;

namespace Chaqum.Tests.Cluster;

/// <summary>
/// Jobs of a Slurm group (group -x slurm[:PARTITION]) on the real two-node loopback
/// cluster (<see cref="SlurmCluster"/>): they keep the whole job contract (fds 3/4,
/// output with levels, statuses, kill, timeouts, retries), and no process of theirs
/// survives on a node. Every wait is for a gate: a file a job writes, a log line, an exit.
/// </summary>
[TestFixture, CancelAfter(240_000)]
public class SlurmExecutorTests
{
    [SetUp]
    public void Cluster() => SlurmCluster.Require();

    /// <summary>Cancels what a failed test left on the cluster (before the tree goes).</summary>
    private sealed class Cleanup(TempTree tree) : IDisposable
    {
        public void Dispose() => SlurmCluster.CancelAll(tree);
    }

    private static DaemonProcess Start(TempTree tree, params string[] options) =>
        DaemonProcess.Start(tree, Array.Empty<string>(), SlurmCluster.Environment, options);

    /// <summary>Nothing of the tree runs anywhere: on loopback the nodes' processes are
    /// this machine's, marked with the tree (srun exports the job's environment), and
    /// slurmctld knows no job of it.</summary>
    private static void AssertNothingLeft(TempTree tree)
    {
        Poll.Until(() => ProcessCleanup.Living(tree.Root).Count == 0,
            () => $"every process of the tree to end; left: {string.Join(", ", ProcessCleanup.Living(tree.Root))}");
        Poll.Until(() => SlurmCluster.JobsOf(tree).Count == 0,
            () => $"slurmctld to forget the tree's jobs; left: {string.Join("; ", SlurmCluster.JobsOf(tree))}");
    }

    [Test]
    public void A_Slurm_job_enqueues_waits_messages_and_logs_with_levels_through_fds_3_and_4()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        tree.Script("helper", "echo helper ran here\n");
        tree.Script("remote", Sh.Script("""
            echo "node=$CHAQUM_NODE slurm=${SLURM_JOB_ID:-none} arg=$1 cwd=$(pwd)"
            printf 'E\037an error from the node\n' >&2
            printf 'D\037a debug line\n'
            cmd 'enqueue -- helper'; h=$(word 2)
            cmd "wait -- $h"
            cmd 'recvmsg -t 120'
            IFS= read -r body <&4; echo "message: $body"
            printf 'sendmsg -- %s 5\nhello\n' "$CHAQUM_PARENT" >&3; IFS= read -r REPLY <&4; echo "sent: $REPLY"
            exit 5
            """));
        tree.Script("init", Sh.Script("""
            cmd 'group -x slurm:main convert'
            cmd 'enqueue -g convert -- remote one'; r=$(word 2)
            printf 'sendmsg -- %s 4\nping\n' "$r" >&3; IFS= read -r REPLY <&4; echo "sent: $REPLY"
            cmd 'recvmsg -t 120'
            IFS= read -r body <&4; echo "message: $body"
            cmd "wait -- $r"
            """));
        using var d = Start(tree);
        Assert.That(d.WaitForExit(Deadline.Seconds(180)), Is.EqualTo(0), d.Log);
        var init = d.Output("init");
        Assert.That(init, Has.Some.Match(@"^reply: S remote/\d+ 5$"), d.Log);
        Assert.That(init, Does.Contain("message: hello"));
        var remote = d.Output(@"remote/\d+");
        Assert.That(remote, Has.Some.Match($@"^node=n[12] slurm=\d+ arg=one cwd={Regex.Escape(tree.Root)}$"));
        Assert.That(remote, Has.Some.Match(@"^reply: S helper/\d+ 0$"));
        Assert.That(remote, Does.Contain("message: ping"));
        Assert.That(d.Log, Does.Match(@"ERR remote/\d+\[err\] an error from the node"));
        Assert.That(d.Log, Does.Match(@"remote/\d+: running on slurm:main, node n[12], Slurm job \d+"));
        Assert.That(d.Output(@"helper/\d+"), Does.Contain("helper ran here"));
        AssertNothingLeft(tree);
        var history = Ctl.Run(tree, "history", "--json").Json.AsArray();
        var run = history.Single(r => r!["script"]!.GetValue<string>() == "remote")!;
        Assert.That(run["executor"]!.GetValue<string>(), Is.EqualTo("slurm:main"));
        Assert.That(run["node"]!.GetValue<string>(), Does.Match("^n[12]$"));
        Assert.That(run["external_id"]!.GetValue<string>(), Does.Match(@"^\d+$"));
        Assert.That(run["exit_code"]!.GetValue<int>(), Is.EqualTo(5));
    }

    [Test]
    public void A_Slurm_job_kills_its_descendants_here_and_on_the_cluster()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        tree.Script("sleeper", "echo up > \"up-$1\"\nexec sleep 600\n");
        tree.Script("boss", Sh.Script("""
            cmd 'enqueue -- sleeper here'; l=$(word 2)
            cmd 'enqueue -g convert -- sleeper there'; r=$(word 2)
            while [ ! -e up-here ] || [ ! -e up-there ]; do sleep 0.05; done
            cmd "killjobs -- $l $r"
            """));
        var init = Sh.InitOutput(tree, """
            cmd 'group -x slurm convert'
            cmd 'enqueue -g convert -- boss'; b=$(word 2)
            cmd "wait -- $b"
            """, SlurmCluster.Environment, out var log);
        Assert.That(init, Has.Some.Match(@"^reply: S boss/\d+ 0$"), log);
        var boss = Regex.Matches(log, @"boss/\d+\[out\] (reply: S sleeper/\d+ -15 sleeper/\d+ -15)");
        Assert.That(boss, Has.Count.EqualTo(1), log);
        AssertNothingLeft(tree);
    }

    [Test]
    public void A_Slurm_job_killed_by_a_signal_reports_minus_the_signal()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        tree.Script("remote", "kill -USR1 $$\n");
        var init = Sh.InitOutput(tree, "cmd 'group -x slurm convert'\ncmd 'enqueue -g convert -- remote'\ncmd \"wait -- $(word 2)\"",
            SlurmCluster.Environment);
        Assert.That(init, Has.Some.Match(@"^reply: S remote/\d+ -10$"));
    }

    [Test]
    public void Killjobs_ends_a_Slurm_job_whose_child_ignores_TERM_and_leaves_no_process_on_the_node()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        tree.Script("stubborn", """
            sh -c 'trap "" TERM; echo $$ > child.pid; while :; do sleep 0.2; done' &
            trap 'echo got TERM' TERM
            while [ ! -s child.pid ]; do sleep 0.05; done
            echo ready > ready
            while :; do sleep 0.2; done
            """);
        tree.Script("init", Sh.Script("""
            cmd 'group -x slurm convert'
            cmd 'enqueue -g convert -- stubborn'; s=$(word 2)
            while [ ! -e ready ]; do sleep 0.05; done
            cmd "killjobs -- $s"
            """));
        using var d = Start(tree); // --grace 2
        Assert.That(d.WaitForExit(Deadline.Seconds(180)), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S stubborn/\d+ -9$"), d.Log);
        Assert.That(d.Output(@"stubborn/\d+"), Does.Contain("got TERM"));
        Assert.That(d.Log, Does.Match(@"stubborn/\d+: still running 2s after SIGTERM; sending SIGKILL"));
        AssertNothingLeft(tree);
    }

    [Test]
    public void A_timeout_of_a_Slurm_job_whose_child_ignores_TERM_leaves_no_process_on_the_node()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        tree.Script("stubborn", """
            sh -c 'trap "" TERM; while :; do sleep 0.2; done' &
            trap '' TERM
            while :; do sleep 0.2; done
            """);
        tree.Script("init", Sh.Script("""
            cmd 'group -x slurm convert'
            cmd 'enqueue -g convert -t 2 -- stubborn'; s=$(word 2)
            cmd "wait -- $s"
            """));
        using var d = Start(tree);
        Assert.That(d.WaitForExit(Deadline.Seconds(180)), Is.EqualTo(0), d.Log);
        // -9 once it ran on its node; N if the timeout came while the allocation was pending
        // (then it is cancelled by name): either way it timed out and nothing is left.
        Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S stubborn/\d+ (-9|N)$"), d.Log);
        Assert.That(d.Log, Does.Match(@"stubborn/\d+: timed out after 2s"));
        AssertNothingLeft(tree);
    }

    [Test]
    public void Killing_a_Slurm_job_whose_allocation_is_pending_cancels_it_by_name()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        tree.Script("later", "echo never here\n");
        // --begin an hour from now: pending for as long as the test needs, a gate of its own.
        tree.Script("init", Sh.Script("""
            cmd "group -x slurm -X '--begin=now+3600' later"
            cmd 'enqueue -g later -- later'; l=$(word 2)
            while [ ! -e go ]; do sleep 0.05; done
            cmd "killjobs -- $l"
            """));
        using var d = Start(tree);
        Poll.Until(() => SlurmCluster.JobsOf(tree).Any(j => j.EndsWith(" PENDING", StringComparison.Ordinal)),
            () => "the Slurm job to be pending. Log:\n" + d.Log, Deadline.Seconds(120));
        File.WriteAllText(tree.PathOf("go"), "");
        Assert.That(d.WaitForExit(Deadline.Seconds(120)), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S later/\d+ N$"), d.Log);
        Assert.That(d.Log, Does.Match(@"later/\d+: not started on the cluster yet: cancelled by name"));
        Assert.That(d.Log, Does.Not.Contain("never here"));
        AssertNothingLeft(tree);
    }

    [Test]
    public void A_job_that_gets_no_allocation_ends_not_run_with_srun_s_reason_and_is_retried()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        tree.Script("work", "echo never here\n");
        var init = Sh.InitOutput(tree, """
            cmd "group -x slurm -X '--nodelist=n9' nowhere"
            cmd 'enqueue -g nowhere -r 1 -- work'; w=$(word 2)
            cmd "wait -- $w"
            """, SlurmCluster.Environment, out var log);
        Assert.That(init[0], Is.EqualTo("reply: S"));
        Assert.That(init, Has.Some.Match(@"^reply: S work/\d+ N$"));
        Assert.That(log, Does.Match(@"work/\d+\[err\] srun: error: .*(Invalid node name|allocate)"));
        Assert.That(log, Does.Match(@"work/\d+: srun ended \(exit \d+\) before the job started on the cluster"));
        Assert.That(log, Does.Match(@"work/\d+: attempt 1 ended with not run after .*; retrying"));
        Assert.That(log, Does.Match(@"work/\d+: started, pid \d+, attempt 2"));
        Assert.That(log, Does.Not.Contain("never here"));
    }

    [Test]
    public void Group_refuses_barriers_unknown_partitions_and_X_without_slurm_with_reasons()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        var init = Sh.InitOutput(tree, """
            cmd 'group -x slurm -c 50 a'
            cmd 'group -x slurm:nope b'
            cmd "group -X '--mem=1G' c"
            cmd 'group -x cloud d'
            cmd 'group -x slurm -m 1 e'
            cmd 'group -l 4 e'
            cmd 'enqueue -g e -M 1G -- init'
            cmd "group -x slurm -X '--time=5 -n 4' f"
            cmd "group -X '--output=out.txt' e"
            """, SlurmCluster.Environment, out var log);
        Assert.That(init[0], Does.Match("^reply: E group: .*runs on slurm: -c/-l/-M/-P measure this machine"));
        Assert.That(init[1], Does.Match(@"^reply: E group: cannot use Slurm: no partition 'nope' \(sinfo lists: main\*\)$"));
        Assert.That(init[2], Does.Match(@"^reply: E group: .*-X .*needs -x slurm"));
        Assert.That(init[3], Does.Match(@"^reply: E group: -x: 'cloud' is not an executor"));
        Assert.That(init[4], Is.EqualTo("reply: S"));
        Assert.That(init[5], Does.Match("^reply: E group: .*runs on slurm: -c/-l/-M/-P"));
        Assert.That(init[6], Does.Match("^reply: E enqueue: .*runs on slurm: -c/-l/-M/-P"));
        Assert.That(init[7], Does.Match(@"^reply: E group: -X: srun's -n is chaqum's to set \(a job is one task"));
        Assert.That(init[8], Does.Match(@"^reply: E group: -X: srun's --output=out.txt is chaqum's to set"));
        Assert.That(log, Does.Match(@"init: refused 'group -x slurm:nope b': group: cannot use Slurm: no partition"));
    }

    [Test]
    public void Group_x_slurm_with_slurmctld_down_is_refused_naming_the_command_and_what_it_said()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        // A configuration of a cluster whose controller is not there: this one's with
        // another port, where nothing listens.
        var conf = File.ReadAllText(SlurmCluster.Conf);
        conf = Regex.Replace(conf, @"(?m)^SlurmctldPort=\d+$", "SlurmctldPort=17999");
        conf = Regex.Replace(conf, @"(?m)^MessageTimeout=.*$", "") + "MessageTimeout=2\n";
        var dead = tree.File_("dead-slurm.conf", conf);
        tree.Script("init", Sh.Script("cmd 'group -x slurm convert'"));
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), new Dictionary<string, string?> { ["SLURM_CONF"] = dead });
        Assert.That(d.WaitForExit(Deadline.Seconds(180)), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init").Single(), Does.Match(
            @"^reply: E group: cannot use Slurm: sinfo --noheader '?--format=%P'? ended with exit \d+: .*(contact|connect|controller)"));
    }

    [Test]
    public void M1_serialises_a_Slurm_group_and_exclusive_jobs_land_on_both_nodes()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        // Two at a time, a node each (--exclusive): each says where it is and waits until
        // both are there, so both really ran at once. Then -m 1: one at a time, checked by
        // a marker the running one holds.
        tree.Script("pair", """
            echo "$CHAQUM_NODE" > "at-$1"
            while [ ! -e at-a ] || [ ! -e at-b ]; do sleep 0.05; done
            """);
        tree.Script("single", """
            if ! mkdir one-at-a-time 2>/dev/null; then echo OVERLAP; exit 1; fi
            sleep 0.3
            rmdir one-at-a-time
            """);
        var init = Sh.InitOutput(tree, """
            cmd "group -x slurm -m 2 -X '--exclusive' pairs"
            cmd 'enqueue -g pairs -- pair a'; a=$(word 2)
            cmd 'enqueue -g pairs -- pair b'; b=$(word 2)
            cmd "wait -- $a $b"
            cmd 'group -x slurm -m 1 singles'
            cmd 'enqueue -g singles -- single'; s1=$(word 2)
            cmd 'enqueue -g singles -- single'; s2=$(word 2)
            cmd 'enqueue -g singles -- single'; s3=$(word 2)
            cmd "wait -- $s1 $s2 $s3"
            """, SlurmCluster.Environment, out var log);
        Assert.That(init, Has.Some.Match(@"^reply: S pair/\d+ 0 pair/\d+ 0$"), log);
        var nodes = new[] { tree.Read("at-a").Trim(), tree.Read("at-b").Trim() };
        Assert.That(nodes, Is.EquivalentTo(new[] { "n1", "n2" }));
        Assert.That(init, Has.Some.Match(@"^reply: S single/\d+ 0 single/\d+ 0 single/\d+ 0$"), log);
        Assert.That(log, Does.Not.Contain("OVERLAP"));
    }

    [Test]
    public void Daemon_SIGTERM_ends_every_Slurm_job_and_nothing_is_left_on_the_nodes()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        tree.Script("long", "echo up > \"up-$1\"\nexec sleep 600\n");
        tree.Script("init", Sh.Script("""
            cmd "group -x slurm -X '--exclusive' convert"
            cmd 'enqueue -g convert -- long 1'
            cmd 'enqueue -g convert -- long 2'
            cmd 'enqueue -- long 3'
            while :; do sleep 1; done
            """));
        using var d = Start(tree);
        Poll.Until(() => tree.Exists("up-1") && tree.Exists("up-2") && tree.Exists("up-3"), () => "all three jobs to run. Log:\n" + d.Log,
            Deadline.Seconds(120));
        d.Signal(15);
        Assert.That(d.WaitForExit(Deadline.Seconds(120)), Is.EqualTo(0), d.Log);
        AssertNothingLeft(tree);
    }

    [Test]
    public void After_a_kill_9_the_next_start_cancels_the_Slurm_job_left_running_and_records_it_lost()
    {
        using var tree = new TempTree();
        using var cleanup = new Cleanup(tree);
        tree.Script("long", "echo up > up\nexec sleep 600\n");
        tree.Script("init", Sh.Script("""
            if [ -n "$CHAQUM_RECOVERED" ]; then echo "recovered $CHAQUM_RECOVERED"; exit 0; fi
            cmd 'group -x slurm:main convert'
            cmd 'enqueue -g convert -- long'
            while :; do sleep 1; done
            """));
        string slurmId;
        using (var d = Start(tree))
        {
            Poll.Until(() => tree.Exists("up"), () => "the Slurm job to run. Log:\n" + d.Log, Deadline.Seconds(120));
            var placed = d.WaitForLine(@"long/\d+: running on slurm:main, node n[12], Slurm job \d+");
            slurmId = Regex.Match(placed, @"Slurm job (\d+)").Groups[1].Value;
            // The ps view says where it runs.
            var show = Ctl.Run(tree, "show", Regex.Match(placed, @"long/\d+").Value);
            Assert.That(show.Out, Does.Match($@"runs on\s+slurm:main, node n[12], Slurm job {slurmId}"), show.ToString());
            var ps = Ctl.Run(tree, "ps");
            Assert.That(ps.Lines[0], Does.Match(@"^ID\s+STATE\s+GROUP\s+PID\s+NODE\s+STARTED"), ps.ToString());
            Assert.That(ps.Out, Does.Match($@"long/\d+\s+running\s+convert\s+\d+\s+n[12]/{slurmId}\s"), ps.ToString());
            var json = Ctl.Run(tree, "ps", "--json").Json.AsArray().Single(j => j!["script"]!.GetValue<string>() == "long")!;
            Assert.That(json["external_id"]!.GetValue<string>(), Is.EqualTo(slurmId));
            d.Signal(9);
            d.WaitForExit();
        }
        // The daemon is gone; its job is not (on the node, and known to slurmctld).
        Assert.That(SlurmCluster.JobsOf(tree), Has.Some.StartsWith(slurmId + " "));
        using (var again = Start(tree))
        {
            Assert.That(again.WaitForExit(Deadline.Seconds(120)), Is.EqualTo(0), again.Log);
            Assert.That(again.Log, Does.Match($@"long/\d+: cancelled Slurm job {slurmId} left running on n[12] by the last run"));
            Assert.That(again.Output("init"), Does.Contain("recovered 2"));
        }
        AssertNothingLeft(tree);
        var lost = Ctl.Run(tree, "history", "--lost", "--json").Json.AsArray();
        Assert.That(lost.Select(r => r!["external_id"]?.GetValue<string>()), Does.Contain(slurmId));
    }
}
