using Chaqum.Tests.Control;
using Chaqum.Tests.Daemon;
using Microsoft.Data.Sqlite;

namespace Chaqum.Tests.Hardening;

/// <summary>
/// What crash recovery and a stop on a failing disk must get right beyond RecoveryTests:
/// a job started in the last moments before a kill -9 is still found and killed (its
/// process is named in the live journal at spawn); a remembered process group that is no
/// longer ours is never signalled; and runs the history could not take at a clean stop
/// are recorded by the next start as what they were, never as lost.
/// </summary>
[TestFixture, CancelAfter(240_000), NonParallelizable]
public class RecoveryHardeningTests
{
    [Test]
    public void A_job_that_kills_the_daemon_at_once_is_killed_by_the_next_start([Values] bool cgroups)
    {
        using var tree = new TempTree();
        // killer: one round trip (so the daemon has handled its start completely), then
        // kill -9 the daemon and become a long sleep with the same pid.
        tree.Script("killer", Sh.Script("""
            echo $$ > killer.tmp && mv killer.tmp killer.pid
            cmd 'wait --'
            kill -KILL $PPID
            exec sleep 120
            """));
        tree.Script("init", Sh.Script("""
            if [ -n "${CHAQUM_RECOVERED+set}" ]; then echo "recovered=$CHAQUM_RECOVERED"; exit 0; fi
            cmd 'enqueue -- killer'; a=$(word 2)
            cmd "wait -- $a"
            """));
        var env = new Dictionary<string, string?> { ["CHAQUM_CGROUPS"] = cgroups ? null : "off" };
        int killer;
        using (var first = DaemonProcess.Start(tree, Array.Empty<string>(), env))
        {
            first.WaitForExit();
            killer = int.Parse(tree.Read("killer.pid").Trim());
            Assert.That(ProcessCleanup.Alive(killer), Is.True, "the killer outlived the daemon");
            using var second = DaemonProcess.Start(tree, Array.Empty<string>(), env);
            Assert.That(second.WaitForExit(), Is.EqualTo(0));
            Assert.That(second.Output("init"), Is.EqualTo(new[] { "recovered=2" }), second.Log);
            Poll.Until(() => !ProcessCleanup.Alive(killer), () => "the killer to be killed by recovery; log:\n" + second.Log);
        }
        var lost = Ctl.Run(tree, "history", "--lost", "--json").Json.AsArray();
        Assert.That(lost.Select(r => (string)r!["script"]!), Is.EquivalentTo(new[] { "init", "killer" }));
    }

    [Test]
    public void A_process_group_that_is_no_longer_ours_is_never_signalled()
    {
        using var tree = new TempTree();
        tree.Script("init", "echo \"recovered=$CHAQUM_RECOVERED\"\n");
        // A stranger's process group whose leader has gone: its number is the pid a
        // crashed run recorded for a job, and its member started after that job did, as
        // after pid reuse. Not ours: it does not carry the tree's mark.
        using var leader = System.Diagnostics.Process.Start("setsid", new[] { "sh", "-c", $"sleep 300 </dev/null >/dev/null 2>&1 & echo $! > {tree.PathOf("member.pid")}" });
        leader.WaitForExit();
        Poll.Until(() => tree.Exists("member.pid") && tree.Read("member.pid").Trim().Length > 0, "the stranger runs");
        int member = int.Parse(tree.Read("member.pid").Trim());
        int group = leader.Id;
        Poll.Until(() => StatField(member, 5) == group, "the member to be in the leader's group");
        try
        {
            long ticks = StatField(member, 22) - 1;
            double t = DateTimeOffset.Now.AddMinutes(-5).ToUnixTimeMilliseconds() / 1000.0;
            Directory.CreateDirectory(tree.StateDir);
            File.WriteAllText(Path.Combine(tree.StateDir, "live.journal"),
                $$"""{"k":"+","id":"victim/41","a":0,"s":"victim","x":["a b"],"t":{{t}}}""" + "\n" +
                $$"""{"k":"s","id":"victim/41","a":1,"pid":{{group}},"st":{{ticks}},"t":{{t}}}""" + "\n");
            // The same, as earlier versions kept it in the history's live table.
            using (var db = new SqliteConnection($"Data Source={Path.Combine(tree.StateDir, "history.sqlite")};Pooling=False"))
            {
                db.Open();
                using var cmd = db.CreateCommand();
                cmd.CommandText = $"""
                    CREATE TABLE live (id TEXT PRIMARY KEY, attempt INTEGER, script TEXT NOT NULL, args TEXT NOT NULL,
                        grp TEXT, parent TEXT, enqueued_at REAL, started_at REAL, pid INTEGER, start_ticks INTEGER);
                    INSERT INTO live VALUES ('victim/41', 1, 'victim', '["a b"]', NULL, NULL, {t}, {t}, {group}, {ticks});
                    """;
                cmd.ExecuteNonQuery();
            }

            using var d = DaemonProcess.Start(tree);
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
            Assert.That(d.Output("init"), Is.EqualTo(new[] { "recovered=1" }));
            Assert.That(ProcessCleanup.Alive(member), Is.True, "the stranger's process lives");
            var lost = Ctl.Run(tree, "history", "--lost", "--json").Json.AsArray();
            Assert.That(lost.Select(r => (string)r!["id"]!), Is.EqualTo(new[] { "victim/41" }));
        }
        finally
        {
            Support.Native.kill(member, 9);
        }
    }

    [Test]
    public void Runs_the_history_could_not_take_at_a_clean_stop_are_recorded_by_the_next_start_not_lost()
    {
        // The history is kept from writing (a lock held on it: the gate that keeps the runs
        // unwritten until the disk is full), seven jobs run and end, the disk fills, and the
        // daemon stops cleanly with the history still unwritten.
        using var tree = new TempTree();
        using var disk = Tmpfs.Mount(tree.StateDir, "16m");
        tree.Script("work", "echo \"work $1\"\n");
        tree.Script("init", Sh.Script("""
            if [ -e second ]; then echo "recovered=${CHAQUM_RECOVERED-absent}"; exit 0; fi
            ids=
            for i in 1 2 3 4 5 6 7; do cmd "enqueue -- work $i"; ids="$ids $(word 2)"; done
            cmd "wait --$ids"
            echo done
            while [ ! -e stop ]; do sleep 0.05; done
            """));
        var dbPath = Path.Combine(tree.StateDir, "history.sqlite");
        var locker = new SqliteConnection($"Data Source={dbPath};Pooling=False");
        try
        {
            locker.Open();
            using (var setup = locker.CreateCommand())
            {
                setup.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, " +
                    "id TEXT NOT NULL, attempt INTEGER NOT NULL, script TEXT NOT NULL, args TEXT NOT NULL, grp TEXT, parent TEXT, " +
                    "enqueued_at REAL, started_at REAL, ended_at REAL, runtime REAL, exit_code INTEGER, signal INTEGER, " +
                    "outcome TEXT NOT NULL, cpu_user REAL, cpu_system REAL, max_rss INTEGER, pid INTEGER); BEGIN EXCLUSIVE;";
                setup.ExecuteNonQuery();
            }
            string log;
            using (var d = HardDaemon.Start(tree, logPath: tree.Root + ".first.log"))
            {
                d.WaitForLine(@"init\[out\] done", TimeSpan.FromSeconds(60));
                d.WaitForLine("history: cannot write", TimeSpan.FromSeconds(60));
                disk.Fill();
                File.WriteAllText(tree.PathOf("stop"), "");
                Assert.That(d.WaitForExit(TimeSpan.FromSeconds(90)), Is.EqualTo(0));
                log = d.Log;
            }
            Assert.That(log, Does.Match(@"history: \d+ runs could not be written to the history; .*live\.journal keeps them"),
                "the stop says the history is incomplete, and where the runs are kept");
            using (var release = locker.CreateCommand())
            {
                release.CommandText = "ROLLBACK";
                release.ExecuteNonQuery();
            }
            locker.Dispose();
            disk.Free();

            File.WriteAllText(tree.PathOf("second"), "");
            using (var d = HardDaemon.Start(tree, logPath: tree.Root + ".second.log"))
            {
                Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0));
                Assert.That(d.Output("init"), Is.EqualTo(new[] { "recovered=absent" }), "nothing was lost: init is not told so");
                Assert.That(d.Log, Does.Match(@"recorded \d+ runs that the last run could not write"));
                Assert.That(d.Log, Does.Not.Contain("unclean stop"));
            }
            using var db = new SqliteConnection($"Data Source={dbPath};Mode=ReadOnly;Pooling=False");
            db.Open();
            using var query = db.CreateCommand();
            query.CommandText = "SELECT outcome || ' ' || args FROM runs WHERE script = 'work' ORDER BY id";
            using var r = query.ExecuteReader();
            var runs = new List<string>();
            while (r.Read()) runs.Add(r.GetString(0));
            Assert.That(runs, Is.EquivalentTo(Enumerable.Range(1, 7).Select(i => $"exited [\"{i}\"]")), "each run once, as it ended");
            using var lost = db.CreateCommand();
            lost.CommandText = "SELECT count(*) FROM runs WHERE outcome = 'lost'";
            Assert.That((long)lost.ExecuteScalar()!, Is.Zero);
        }
        finally
        {
            locker.Dispose();
            SqliteConnection.ClearAllPools();
        }
    }

    private static long StatField(int pid, int field)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[field - 3]);
    }
}
