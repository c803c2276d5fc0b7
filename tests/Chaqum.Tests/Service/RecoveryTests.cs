using Chaqum.Persistence;
using Chaqum.Tests.Control;
using Chaqum.Tests.Daemon;
using Chaqum.Tests.Support;

namespace Chaqum.Tests.Service;

/// <summary>Crash recovery: after kill -9 of the daemon, the next start kills what the
/// crashed run left running (only what is provably ours), records it lost, and tells init;
/// what was queued comes back (ResumeTests), or with --no-resume is recorded dropped.</summary>
[TestFixture, CancelAfter(120_000)]
public class RecoveryTests
{
    [Test]
    public void After_kill_9_leftovers_are_killed_recorded_lost_and_init_is_told()
    {
        using var tree = new TempTree();
        // worker leaves a grandchild in its process group and one that escaped it
        // (setsid), then sleeps itself.
        tree.Script("worker", """
            [ -e "$CHAQUM_TREE/second" ] && exit 0
            setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! > "$CHAQUM_TREE/escaped.pid"
            sleep 300 & echo $! > "$CHAQUM_TREE/grandchild.pid"
            sleep 300
            """);
        tree.Script("init", Sh.Script("""
            if [ -n "${CHAQUM_RECOVERED+set}" ]; then echo "recovered=$CHAQUM_RECOVERED"; exit 0; fi
            cmd 'group -m 1 -- solo'
            cmd 'enqueue -g solo -- worker first'; a=$(word 2)
            cmd 'enqueue -g solo -- worker second'; b=$(word 2)
            cmd "wait -- $a $b"
            """));
        // Not disposed before the end: disposing kills every process of the tree.
        using var first = DaemonProcess.Start(tree);
        Poll.Until(() => tree.Exists("grandchild.pid") && tree.Read("grandchild.pid").Trim().Length > 0, "the grandchild runs");
        int grandchild = int.Parse(tree.Read("grandchild.pid").Trim());
        // Every live record is in the journal: init's and the running worker's with pid and
        // start time, and the queued worker's.
        Poll.Until(() => LiveRecords(tree) is var live && live.Count == 3 && live.Count(l => l.Pid > 0 && l.StartTicks > 0) == 2,
            "init and both workers recorded live");
        first.Signal(9);
        first.WaitForExit();
        int escaped = int.Parse(tree.Read("escaped.pid").Trim());
        Assert.That(ServiceTests.ProcessIsAlive(grandchild), Is.True, "the grandchild outlived the daemon");
        Assert.That(ServiceTests.ProcessIsAlive(escaped), Is.True, "the escaped grandchild outlived the daemon");

        tree.File_("second", "");
        using (var second = DaemonProcess.Start(tree))
        {
            Assert.That(second.WaitForExit(), Is.EqualTo(0));
            // init and the running worker; the queued worker comes back (and runs).
            Assert.That(second.Output("init"), Is.EqualTo(new[] { "recovered=2" }));
            Assert.That(second.Log, Does.Contain("recovered from an unclean stop: 2 jobs lost (2 were running, 0 queued)"));
            Assert.That(second.Log, Does.Contain("resumed 1 queued jobs (0 to run again)"));
        }
        Poll.Until(() => !ServiceTests.ProcessIsAlive(grandchild), "the grandchild is gone");
        Poll.Until(() => !ServiceTests.ProcessIsAlive(escaped), "the escaped grandchild is gone");

        var lost = Ctl.Run(tree, "history", "--lost", "--json");
        Assert.That(lost.Exit, Is.EqualTo(0), lost.ToString());
        var runs = lost.Json.AsArray();
        Assert.That(runs.Select(r => (string)r!["outcome"]!), Is.All.EqualTo("lost"));
        Assert.That(runs.Select(r => r!["script"]!.ToString() + " " + string.Join(" ", r["args"]!.AsArray().Select(a => a!.ToString()))),
            Is.EquivalentTo(new[] { "init ", "worker first" }));

        // A clean run afterwards: nothing to recover, and CHAQUM_RECOVERED is absent.
        tree.Script("init", "echo \"recovered=${CHAQUM_RECOVERED-absent}\"\n");
        using var third = DaemonProcess.Start(tree);
        Assert.That(third.WaitForExit(), Is.EqualTo(0));
        Assert.That(third.Output("init"), Is.EqualTo(new[] { "recovered=absent" }));
        Assert.That(third.Log, Does.Not.Contain("unclean stop"));
    }

    [Test]
    public void Every_job_acknowledged_before_a_kill_9_is_recovered()
    {
        // 300 enqueues as fast as the daemon answers, then kill -9 a millisecond or so
        // after the last "S": the live journal has every one (each line is written before
        // the reply leaves).
        const int count = 300;
        using var tree = new TempTree();
        tree.Script("work", "sleep 300\n");
        tree.Script("init", Sh.Script($$"""
            if [ -n "${CHAQUM_RECOVERED+set}" ]; then echo "recovered=$CHAQUM_RECOVERED"; exit 0; fi
            cmd 'group -m 1 -- one'
            i=0
            while [ $i -lt {{count}} ]; do cmd "enqueue -g one -- work $i"; i=$((i + 1)); done
            echo "$REPLY" > last.tmp && mv last.tmp last
            sleep 300
            """));
        using (var first = DaemonProcess.Start(tree))
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            while (!tree.Exists("last"))
            {
                Assert.That(sw.Elapsed, Is.LessThan(Deadline.Seconds(60)), "init never finished enqueueing:\n" + first.Log);
                Thread.Sleep(1);
            }
            first.Signal(9);
            first.WaitForExit();
        }
        Assert.That(tree.Read("last"), Does.Match(@"^S work/\d+"));

        // --no-resume: the queued ones are recorded dropped instead of running (they would
        // sleep 300 s each); ResumeTests and RestartTests have them come back.
        using var second = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "--no-resume" });
        Assert.That(second.WaitForExit(), Is.EqualTo(0));
        // init and the running work.
        Assert.That(second.Output("init"), Is.EqualTo(new[] { "recovered=2" }), second.Log);
        var runs = Ctl.Run(tree, "history", "--script", "work", "--limit", "1000", "--json").Json.AsArray();
        Assert.That(runs.Select(r => (string)r!["outcome"]!).Distinct(), Is.EquivalentTo(new[] { "lost", "dropped" }));
        var args = runs.Select(r => int.Parse((string)r!["args"]![0]!)).OrderBy(a => a);
        Assert.That(args, Is.EqualTo(Enumerable.Range(0, count)), "every work job is recorded lost or dropped, once");
    }

    [Test]
    public void A_reused_pid_is_never_touched()
    {
        using var tree = new TempTree();
        tree.Script("init", "echo \"recovered=$CHAQUM_RECOVERED\"\n");
        // A process that is not ours but has the pid a crashed run recorded: its start
        // time differs from the recorded one, as it would after pid reuse.
        using var stranger = System.Diagnostics.Process.Start("setsid", new[] { "sleep", "300" });
        try
        {
            Poll.Until(() => File.Exists($"/proc/{stranger.Id}/stat") && File.ReadAllText($"/proc/{stranger.Id}/stat").Contains("(sleep)"), "the stranger runs");
            long ticks = StartTicks(stranger.Id);
            Directory.CreateDirectory(tree.StateDir);
            double t = DateTimeOffset.Now.AddMinutes(-5).ToUnixTimeMilliseconds() / 1000.0;
            File.WriteAllText(Path.Combine(tree.StateDir, LiveJournal.FileName),
                $$"""{"k":"+","id":"victim/41","a":0,"s":"victim","x":["a b"],"t":{{t}}}""" + "\n" +
                $$"""{"k":"s","id":"victim/41","a":1,"pid":{{stranger.Id}},"st":{{ticks - 1}},"t":{{t}}}""" + "\n");

            using var d = DaemonProcess.Start(tree);
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
            Assert.That(d.Output("init"), Is.EqualTo(new[] { "recovered=1" }));
            Assert.That(d.Log, Does.Contain($"pid {stranger.Id} now belongs to another process; not touched"));
            Assert.That(stranger.HasExited, Is.False, "the stranger lives");

            var lost = Ctl.Run(tree, "history", "--lost", "--json").Json.AsArray();
            Assert.That(lost.Select(r => (string)r!["id"]!), Is.EqualTo(new[] { "victim/41" }));
        }
        finally
        {
            stranger.Kill();
            stranger.WaitForExit();
        }
    }

    private static List<LiveRecord> LiveRecords(TempTree tree) =>
        LiveJournal.Read(tree.StateDir).Jobs.Where(j => !j.Finished).Select(j => j.Job).ToList();

    private static long StartTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19]);
    }
}
