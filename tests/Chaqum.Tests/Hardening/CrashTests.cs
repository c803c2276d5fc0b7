using System.Globalization;
using System.Text.RegularExpressions;
using Chaqum.Tests.Daemon;
using Microsoft.Data.Sqlite;

namespace Chaqum.Tests.Hardening;

/// <summary>
/// kill -9 at random points of a busy run (jobs starting and ending all the time, so the
/// history is written all the time): the SQLite store stays consistent, and the next start
/// records every job that was running as lost and tells init how many (queued ones come back). No job
/// whose enqueue was acknowledged goes missing, however close to the kill: the history is
/// written in batches a tenth of a second apart, but the live journal has each enqueue
/// before its reply is written (see docs/reliability.md). The lead's RecoveryTests cover
/// what is killed and what is kept; this is about many crashes in a row.
/// </summary>
[TestFixture, CancelAfter(300_000), Heavy]
public class CrashTests
{
    private const int Crashes = 5;

    [Test]
    public void Kill_9_at_random_points_leaves_a_consistent_history_and_recovery_finds_the_lost_jobs()
    {
        int seed = Environment.TickCount;
        TestContext.Progress.WriteLine($"crash points from seed {seed}");
        var random = new Random(seed);
        using var tree = new TempTree();
        tree.Script("work", "sleep 0.05\n");
        tree.Script("long", "sleep 60\n");
        tree.Script("init", Sh.Script("""
            echo "recovered=${CHAQUM_RECOVERED-absent}"
            [ -e stop ] && exit 0
            cmd 'group -m 4 -- w'
            cmd 'enqueue -- long'
            while [ ! -e stop ]; do cmd 'enqueue -g w -- work'; done
            """));
        var daemons = new List<DaemonProcess>();
        try
        {
            long lostSoFar = 0;
            var acknowledged = new List<(string Id, TimeSpan At)>();
            for (int crash = 0; crash <= Crashes; crash++)
            {
                if (crash == Crashes) File.WriteAllText(tree.PathOf("stop"), "");
                // The last start drops what the crashes kept instead of running it all.
                var d = crash == Crashes ? DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "--no-resume" }) : DaemonProcess.Start(tree);
                daemons.Add(d);
                var recovered = d.WaitForLine(@"init\[out\] recovered=");
                if (crash > 0)
                {
                    // The previous run's live jobs were recorded lost before init started.
                    int told = int.Parse(Regex.Match(recovered, @"recovered=(\d+)").Groups[1].Value);
                    long lost = Count(tree, "SELECT count(*) FROM runs WHERE outcome = 'lost'");
                    Assert.That(lost - lostSoFar, Is.EqualTo(told), $"crash {crash}: init was told how many were lost");
                    Assert.That(told, Is.GreaterThan(0), "init, the long job and queued work were live");
                    lostSoFar = lost;
                    // Everything the previous run acknowledged before the kill (init logged
                    // the reply, so it had it) is in the history, ended or lost (or dropped),
                    // or came back queued (in this run's journal): up to the last millisecond,
                    // thanks to the live journal. The journal first: a job that leaves it is
                    // in the history by then.
                    var journal = Chaqum.Persistence.LiveJournal.Read(tree.StateDir);
                    var recorded = journal.Jobs.Select(j => j.Job.Id).Concat(journal.Runs.Select(r => r.Id)).ToHashSet();
                    recorded.UnionWith(Ids(tree));
                    var missing = acknowledged.Where(a => !recorded.Contains(a.Id)).ToList();
                    Assert.That(missing, Is.Empty, $"crash {crash}: acknowledged jobs missing from the history");
                }
                if (crash == Crashes)
                {
                    Assert.That(d.WaitForExit(), Is.EqualTo(0));
                    break;
                }
                // A busy run first (the history exists, whatever the machine's pace), then a
                // random crash point in it.
                Poll.Until(() => File.Exists(Path.Combine(tree.StateDir, "history.sqlite")), "the history to be written");
                Thread.Sleep(500 + random.Next(2000));
                var killedAt = DateTime.Now.TimeOfDay;
                d.Signal(9);
                d.WaitForExit();
                Assert.That(Integrity(tree), Is.EqualTo("ok"), $"crash {crash + 1}: integrity_check");
                acknowledged = d.Lines
                    .Select(l => Regex.Match(l, @"^(\d\d:\d\d:\d\d\.\d{3}) INF init\[out\] reply: S (\S+/\d+)$"))
                    .Where(m => m.Success)
                    .Select(m => (m.Groups[2].Value, TimeSpan.ParseExact(m.Groups[1].Value, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture)))
                    .ToList();
                var last = acknowledged.Count > 0 ? (killedAt - acknowledged[^1].Item2).TotalMilliseconds : double.NaN;
                TestContext.Progress.WriteLine($"FIGURES crash {crash + 1}: {acknowledged.Count} jobs acknowledged before kill -9, the last {last:0} ms before it");
            }
            var after = DaemonProcess.Start(tree);
            daemons.Add(after);
            Assert.That(after.WaitForExit(), Is.EqualTo(0));
            Assert.That(after.Output("init"), Is.EqualTo(new[] { "recovered=absent" }), "a clean stop leaves nothing to recover");
            Assert.That(File.Exists(Path.Combine(tree.StateDir, "live.journal")), Is.False, "nothing live after a clean stop");
            // (The entry job is "init" in every run: numbered jobs only.)
            Assert.That(Count(tree, "SELECT count(*) FROM (SELECT id FROM runs WHERE id != 'init' GROUP BY id, attempt HAVING count(*) > 1)"),
                Is.EqualTo(0), "no run recorded twice");
            TestContext.Progress.WriteLine($"FIGURES {Crashes} kill -9: {lostSoFar} jobs recorded lost, " +
                $"{Count(tree, "SELECT count(*) FROM runs")} runs in all, integrity ok after each");
        }
        finally
        {
            foreach (var d in daemons) d.Dispose();
        }
    }

    private static SqliteConnection Open(TempTree tree)
    {
        var db = new SqliteConnection($"Data Source={Path.Combine(tree.StateDir, "history.sqlite")};Pooling=False");
        db.Open();
        return db;
    }

    private static string Integrity(TempTree tree)
    {
        using var db = Open(tree);
        using var cmd = db.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check";
        return (string)cmd.ExecuteScalar()!;
    }

    private static long Count(TempTree tree, string sql)
    {
        using var db = Open(tree);
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return (long)cmd.ExecuteScalar()!;
    }

    private static HashSet<string> Ids(TempTree tree)
    {
        using var db = Open(tree);
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT id FROM runs";
        var ids = new HashSet<string>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) ids.Add(r.GetString(0));
        return ids;
    }
}
