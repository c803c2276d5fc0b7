using System.Text.RegularExpressions;
using Chaqum.Persistence;
using Chaqum.Tests.Daemon;

namespace Chaqum.Tests.Hardening;

/// <summary>
/// A restart with 10 000 queued jobs (times HARDENING_SCALE), orderly (SIGTERM) and after
/// a kill -9: two groups with -m 1, each behind a blocker, filled by two enqueuers at once
/// so their numbers interleave. What the first daemon kept (its live journal, which has
/// every enqueue before its reply) must come back exactly once each, in order within its
/// group: every job appends its group and id to a file when it runs.
/// </summary>
[TestFixture, CancelAfter(900_000), Heavy]
public class RestartTests
{
    [Test]
    public void Ten_thousand_queued_jobs_come_back_once_each_in_order_within_their_group([Values] bool crash)
    {
        int half = NativeJob.Scaled(10_000) / 2;
        using var tree = new TempTree();
        var job = NativeJob.Install(tree);
        tree.Script("rec", "echo \"$CHAQUM_GROUP $CHAQUM_IDENT\" >> ran\n");
        tree.Script("init", Sh.Script($$"""
            if [ -n "${CHAQUM_RESUMED+set}" ]; then echo "resumed=$CHAQUM_RESUMED"; exit 0; fi
            cmd 'group -m 1 -- g1'
            cmd 'group -m 1 -- g2'
            cmd 'enqueue -g g1 -- {{job}} pause'
            cmd 'enqueue -g g2 -- {{job}} pause'
            cmd 'enqueue -- {{job}} enqueuer {{half}} g1 rec'; a=$(word 2)
            cmd 'enqueue -- {{job}} enqueuer {{half}} g2 rec'; b=$(word 2)
            cmd "wait -t 3600 -- $a $b"
            echo enqueued-all
            exec sleep 3600
            """));
        using (var d = HardDaemon.Start(tree))
        {
            d.WaitForLine(@"init\[out\] enqueued-all", TimeSpan.FromMinutes(5));
            d.Signal(crash ? 9 : 15);
            d.WaitForExit(TimeSpan.FromMinutes(2));
            if (!crash) Assert.That(d.Log, Does.Contain($"keeping {2 * half} queued jobs for the next start (0 to run again)"));
        }
        Assert.That(File.Exists(tree.PathOf("ran")), Is.False, "nothing ran behind the blockers");

        var journal = LiveJournal.Read(tree.StateDir);
        Assert.That(journal.Clean, Is.EqualTo(!crash));
        var kept = journal.Jobs.Where(j => !j.Finished && j.Job.Script == "rec").Select(j => j.Job)
            .GroupBy(j => j.Group!).ToDictionary(g => g.Key, g => g.OrderBy(j => j.Number).Select(j => j.Id).ToList());
        Assert.That(kept.Keys, Is.EquivalentTo(new[] { "g1", "g2" }));
        Assert.That(kept.Values.Select(ids => ids.Count), Is.All.EqualTo(half), "every acknowledged enqueue is in the journal");

        using (var d = HardDaemon.Start(tree))
        {
            Assert.That(d.WaitForExit(TimeSpan.FromMinutes(10)), Is.EqualTo(0));
            Assert.That(d.Output("init"), Is.EqualTo(new[] { $"resumed={2 * half}" }));
            Assert.That(d.Log, Does.Contain($"resumed {2 * half} queued jobs (0 to run again)"));
            if (crash) Assert.That(d.Log, Does.Match(@"recovered from an unclean stop: 3 jobs lost \(3 were running, 0 queued\)"));
        }
        var ran = File.ReadAllLines(tree.PathOf("ran")).Select(l => l.Split(' ')).GroupBy(l => l[0])
            .ToDictionary(g => g.Key, g => g.Select(l => l[1]).ToList());
        foreach (var group in new[] { "g1", "g2" })
            Assert.That(ran[group], Is.EqualTo(kept[group]), $"{group}: every kept job ran once, in its order");
        Assert.That(ran.Values.SelectMany(ids => ids).All(id => Regex.IsMatch(id, @"^rec/\d+$")), Is.True);
    }
}
