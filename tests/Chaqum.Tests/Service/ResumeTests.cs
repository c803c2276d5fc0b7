using System.Text.RegularExpressions;
using Chaqum.Persistence;
using Chaqum.Tests.Control;
using Chaqum.Tests.Daemon;
using Chaqum.Tests.Support;

namespace Chaqum.Tests.Service;

/// <summary>Queued work survives a restart (issue 12, item 1): what waits at a SIGTERM is
/// kept in the state directory and enqueued again, with the same ids, by the next start
/// before init runs; -R jobs that were running run again; after a kill -9 the live
/// journal brings the queued jobs back the same way. Real daemons, one after the other on
/// one tree; every wait is for a file or a log line.</summary>
[TestFixture, CancelAfter(180_000)]
public class ResumeTests
{
    /// <summary>A tree with "work", which appends "ID ARG ATTEMPT PARENT SLOT" to the file
    /// ran, and "blocker", which holds its group until it is stopped.</summary>
    private static TempTree BlockedTree()
    {
        var tree = new TempTree();
        tree.Script("work", "echo \"$CHAQUM_IDENT $1 $CHAQUM_ATTEMPT ${CHAQUM_PARENT-none} ${CHAQUM_SLOT-none}\" >> ran\n");
        tree.Script("blocker", "sleep 300\n");
        return tree;
    }

    private static List<string[]> Ran(TempTree tree) =>
        tree.Exists("ran") ? tree.Read("ran").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToList() : new();

    /// <summary>The ids a job was given, in order ("reply: S ID"; a bare "S" is left out).</summary>
    private static List<string> Replies(DaemonProcess d, string job = "init") =>
        d.Output(job).Select(l => Regex.Match(l, @"^reply: S (\S+)$")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();

    private static long Number(string id) => long.Parse(id[(id.LastIndexOf('/') + 1)..]);

    [Test]
    public void Queued_jobs_come_back_after_an_orderly_stop_with_their_ids_order_group_and_dependencies()
    {
        using var tree = BlockedTree();
        tree.Script("spawner", Sh.Script("""
            cmd 'enqueue -g g -- work child'
            echo enqueued
            sleep 300
            """));
        tree.Script("init", Sh.Script("""
            if [ -n "${CHAQUM_RESUMED+set}" ]; then
              echo "resumed=$CHAQUM_RESUMED recovered=${CHAQUM_RECOVERED-absent}"
              cmd 'enqueue -- work new'
              exit 0
            fi
            cmd 'group -m 1 -- g'
            cmd 'enqueue -g g -- blocker'; b=$(word 2)
            cmd 'enqueue -g g -- work 1'; w1=$(word 2)
            cmd 'enqueue -g g -k k2 -- work 2'
            cmd 'enqueue -g g -r 3 -t 100 -F -- work 3'
            cmd "enqueue -g g -a $w1 -- work 4"
            cmd "enqueue -a $b -- work 5"
            cmd 'enqueue -- spawner'
            sleep 300
            """));
        List<string> first;
        string child;
        using (var d = DaemonProcess.Start(tree))
        {
            d.WaitForLine(@"spawner/\d+\[out\] enqueued");
            d.WaitForLine(@"blocker/\d+: started");
            first = Replies(d);
            child = Replies(d, @"spawner/\d+").Single();
            d.Signal(15);
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
            // work 1-5 and the spawner's child; not the blocker nor the spawner (running), nor init.
            Assert.That(d.Log, Does.Contain("keeping 6 queued jobs for the next start (0 to run again)"));
            Assert.That(d.Log, Does.Not.Contain("cancelled before start"));
        }
        Assert.That(Ran(tree), Is.Empty, "nothing ran behind the blocker");
        var kept = LiveJournal.Read(tree.StateDir);
        Assert.That(kept.Clean, Is.True);
        Assert.That(kept.Groups.Single(g => g.Name == "g").Limits.MaxProcs, Is.EqualTo(1));
        var history = Ctl.Run(tree, "history", "--json").Json.AsArray();
        Assert.That(history.Where(r => (string)r!["script"]! == "work"), Is.Empty, "a kept job is not recorded (as cancelled or anything)");

        string blocker = first[0], spawner = first[^1];
        var work = first.Skip(1).Take(5).ToList(); // work 1..5
        using (var d = DaemonProcess.Start(tree))
        {
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
            Assert.That(d.Output("init")[0], Is.EqualTo("resumed=6 recovered=absent"));
            Assert.That(d.Log, Does.Contain("resumed 6 queued jobs (0 to run again)"));
            // A dependency that is neither back nor known as a success: the history decides.
            Assert.That(d.Log, Does.Contain($"{work[4]}: its dependency {blocker} did not come back after the restart (history: killed"));
            string fresh = Replies(d).Single();
            Assert.That(Number(fresh), Is.GreaterThan(first.Concat(new[] { child }).Max(Number)), "numbers of kept jobs are not handed out again");
        }
        var ran = Ran(tree);
        var grouped = ran.Where(r => r[4] != "none").ToList();
        Assert.That(grouped.Select(r => r[0]), Is.EqualTo(work.Take(4).Append(child)), "same ids, once each, in their group's order");
        Assert.That(grouped.Select(r => r[4]).Distinct(), Is.EqualTo(new[] { "0" }), "the group's limit (-m 1, slot 0) came back");
        Assert.That(grouped.Select(r => r[2]).Distinct(), Is.EqualTo(new[] { "1" }), "first attempts");
        Assert.That(grouped.Single(r => r[1] == "child")[3], Is.EqualTo(spawner), "a parent that did not come back is still named");
        Assert.That(ran.Where(r => r[1] == "5"), Is.Empty, "its dependency failed");
        var work5 = Ctl.Run(tree, "history", "--id", work[4], "--json").Json.AsArray().Single()!;
        Assert.That((string)work5["outcome"]!, Is.EqualTo("dependency_failed"));
    }

    [Test]
    public void A_requeue_job_running_at_the_stop_runs_again_with_its_attempt_counted([Values] bool crash)
    {
        using var tree = new TempTree();
        tree.Script("again", """
            if [ "$CHAQUM_ATTEMPT" = 1 ]; then : > started; exec sleep 300; fi
            echo "$CHAQUM_IDENT $CHAQUM_ATTEMPT" > again.done
            """);
        tree.Script("plain", "sleep 300\n");
        tree.Script("init", Sh.Script("""
            if [ -n "${CHAQUM_RESUMED+set}" ]; then echo "resumed=$CHAQUM_RESUMED"; exit 0; fi
            cmd 'enqueue -R -- again'
            cmd 'enqueue -- plain'
            sleep 300
            """));
        string again;
        using (var d = DaemonProcess.Start(tree))
        {
            Poll.Until(() => tree.Exists("started"), "the -R job runs");
            d.WaitForLine(@"init\[out\] reply: S plain/");
            again = Replies(d)[0];
            // The journal knows it runs (kill -9 must find its "s" line).
            Poll.Until(() => LiveJournal.Read(tree.StateDir).Jobs.Any(j => j.Job.Id == again && j.Job.Pid > 0), "its start in the journal");
            Poll.Until(() => d.HasLine(@"plain/\d+: started"), "plain runs");
            d.Signal(crash ? 9 : 15);
            d.WaitForExit();
            if (!crash) Assert.That(d.Log, Does.Contain("keeping 1 queued jobs for the next start (1 to run again)"));
        }
        using (var d = DaemonProcess.Start(tree))
        {
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
            Assert.That(d.Output("init"), Is.EqualTo(new[] { "resumed=1" }));
            Assert.That(d.Log, Does.Contain("resumed 1 queued jobs (1 to run again)"));
        }
        Assert.That(tree.Read("again.done").Trim(), Is.EqualTo($"{again} 2"), "the same job, attempt 2");
        var runs = Ctl.Run(tree, "history", "--id", again, "--json").Json.AsArray();
        Assert.That(runs.Select(r => ((int)r!["attempt"]!, (string)r["outcome"]!)),
            Is.EqualTo(new[] { (1, crash ? "lost" : "killed"), (2, "exited") }));
        var plain = Ctl.Run(tree, "history", "--script", "plain", "--json").Json.AsArray();
        Assert.That(plain.Select(r => (string)r!["outcome"]!), Is.EqualTo(new[] { crash ? "lost" : "killed" }), "without -R: not again");
    }

    [Test]
    public void After_a_kill_9_queued_jobs_come_back_and_running_ones_are_lost()
    {
        using var tree = BlockedTree();
        tree.Script("init", Sh.Script("""
            if [ -n "${CHAQUM_RESUMED+set}" ]; then echo "resumed=$CHAQUM_RESUMED recovered=$CHAQUM_RECOVERED"; exit 0; fi
            cmd 'group -m 1 -- g'
            cmd 'enqueue -g g -- blocker'; b=$(word 2)
            for i in 1 2 3; do cmd "enqueue -g g -p 5 -- work $i"; done
            cmd "enqueue -g g -a $b -- work dep"
            echo enqueued
            sleep 300
            """));
        List<string> first;
        using (var d = DaemonProcess.Start(tree))
        {
            d.WaitForLine(@"init\[out\] enqueued");
            first = Replies(d);
            Poll.Until(() => LiveJournal.Read(tree.StateDir).Jobs.Any(j => j.Job.Id == first[0] && j.Job.Pid > 0), "the blocker's start in the journal");
            d.Signal(9);
            d.WaitForExit();
        }
        using (var d = DaemonProcess.Start(tree))
        {
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
            // Back: work 1-3 and work dep (cancelled at once: the blocker was lost). Lost: init, the blocker.
            Assert.That(d.Output("init"), Is.EqualTo(new[] { "resumed=4 recovered=2" }));
            Assert.That(d.Log, Does.Contain("2 jobs lost (2 were running, 0 queued)"));
        }
        Assert.That(Ran(tree).Select(r => r[0]), Is.EqualTo(first.Skip(1).Take(3)));
        var lost = Ctl.Run(tree, "history", "--lost", "--json").Json.AsArray();
        Assert.That(lost.Select(r => (string)r!["script"]!), Is.EquivalentTo(new[] { "init", "blocker" }));
    }

    /// <summary>A hold given by the operator after the enqueue, a due time and -U come back
    /// with the job, after a SIGTERM and after a kill -9 (the hold reaches the live journal
    /// when it is given, not only at the stop).</summary>
    [Test]
    public void Holds_due_times_and_urgency_come_back([Values] bool crash)
    {
        using var tree = BlockedTree();
        tree.Script("init", Sh.Script("""
            if [ -n "${CHAQUM_RESUMED+set}" ]; then echo "resumed=$CHAQUM_RESUMED"; while [ ! -e stop ]; do sleep 0.05; done; exit 0; fi
            cmd 'group -m 1 -- g'
            cmd 'enqueue -g g -- blocker'
            cmd 'enqueue -g g -- work later-held'
            cmd 'enqueue -g g -d 1h -- work scheduled'
            cmd 'enqueue -g g -U -- work urgent'
            echo enqueued
            sleep 300
            """));
        List<string> ids;
        using (var d = DaemonProcess.Start(tree))
        {
            d.WaitForLine(@"init\[out\] enqueued");
            d.WaitForLine(@"blocker/\d+: started");
            ids = Replies(d);
            var held = Ctl.Run(tree, "hold", ids[1]);
            Assert.That(held.Exit, Is.EqualTo(0), held.ToString());
            if (crash)
            {
                Poll.Until(() => LiveJournal.Read(tree.StateDir).Jobs.Any(j => j.Job.Id == ids[1] && j.Job.Held), "the hold in the journal");
                d.Signal(9);
                d.WaitForExit();
            }
            else
            {
                d.Signal(15);
                Assert.That(d.WaitForExit(), Is.EqualTo(0));
            }
        }
        using (var d = DaemonProcess.Start(tree))
        {
            d.WaitForLine(@"init\[out\] resumed=3");
            Assert.That(Ctl.Job(tree, ids[1])!["state"]!.GetValue<string>(), Is.EqualTo("held"));
            var scheduled = Ctl.Job(tree, ids[2])!;
            Assert.That(scheduled["state"]!.GetValue<string>(), Is.EqualTo("scheduled"));
            Assert.That(DateTimeOffset.Parse(scheduled["due_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
                Is.GreaterThan(DateTimeOffset.Now.AddMinutes(50)), "the due time kept, not restarted from now");
            // The urgent job had no blocker this time: it ran, the held one did not.
            Poll.Until(() => Ran(tree).Any(r => r[1] == "urgent"), "the urgent job to run");
            Assert.That(Ran(tree).Select(r => r[1]), Is.EqualTo(new[] { "urgent" }));
            Assert.That(Ctl.Run(tree, "release", ids[1]).Exit, Is.EqualTo(0));
            Poll.Until(() => Ran(tree).Any(r => r[1] == "later-held"), "the released job to run");
            Assert.That(Ctl.Run(tree, "kill", ids[2]).Exit, Is.EqualTo(0));
            tree.File_("stop", "");
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
        }
    }

    [Test]
    public void No_resume_starts_empty_and_records_the_kept_jobs_as_dropped()
    {
        using var tree = BlockedTree();
        tree.Script("init", Sh.Script("""
            if [ -e second ]; then echo "resumed=${CHAQUM_RESUMED-absent}"; exit 0; fi
            cmd 'group -m 1 -- g'
            cmd 'enqueue -g g -- blocker'
            for i in 1 2 3; do cmd "enqueue -g g -- work $i"; done
            echo enqueued
            sleep 300
            """));
        using (var d = DaemonProcess.Start(tree))
        {
            d.WaitForLine(@"init\[out\] enqueued");
            d.WaitForLine(@"blocker/\d+: started");
            d.Signal(15);
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
        }
        tree.File_("second", "");
        using (var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "--no-resume" }))
        {
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
            Assert.That(d.Output("init"), Is.EqualTo(new[] { "resumed=absent" }));
            Assert.That(d.Log, Does.Contain("--no-resume: 3 queued jobs of the last run not taken back; recorded as dropped"));
        }
        Assert.That(Ran(tree), Is.Empty);
        var work = Ctl.Run(tree, "history", "--script", "work", "--json").Json.AsArray();
        Assert.That(work.Select(r => (string)r!["outcome"]!), Is.EqualTo(new[] { "dropped", "dropped", "dropped" }));
        // Nothing is left to come back a second time.
        Assert.That(File.Exists(Path.Combine(tree.StateDir, LiveJournal.FileName)), Is.False);
    }

    [Test]
    public void Without_a_state_directory_the_stop_says_that_queued_jobs_are_dropped()
    {
        using var tree = BlockedTree();
        tree.Script("init", Sh.Script("""
            cmd 'group -m 1 -- g'
            cmd 'enqueue -g g -- blocker'
            cmd 'enqueue -g g -- work'
            cmd 'enqueue -g g -- work'
            echo enqueued
            sleep 300
            """));
        // A state directory that cannot be made: under a regular file.
        tree.File_("plain-file", "");
        using var d = DaemonProcess.Raw("--state-dir", tree.PathOf("plain-file") + "/state", "--grace", "2",
            "--control", tree.Root + ".sock", tree.Root);
        d.WaitForLine(@"init\[out\] enqueued");
        d.WaitForLine(@"blocker/\d+: started");
        d.Signal(15);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Log, Does.Contain("dropping 2 queued jobs: without a state directory nothing can be kept for the next start"));
    }
}
