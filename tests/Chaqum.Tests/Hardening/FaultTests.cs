using System.Text.RegularExpressions;
using Chaqum.Tests.Daemon;
using Microsoft.Data.Sqlite;

namespace Chaqum.Tests.Hardening;

/// <summary>
/// Faults, each with the behaviour docs/reliability.md promises: a job dying in the middle
/// of a message; the disk under the state directory and the log file filling up; a log
/// file and an output directory that cannot be written; running out of file descriptors
/// and of processes; the daemon stopped and continued. (A job closing fd 3 mid-line is in
/// LifetimeTests; /proc figures that cannot be read in BarrierTests and ClockAndLoadTests;
/// kill -9 in CrashTests.) Several need root: tmpfs mounts, setpriv, other uids.
/// </summary>
[TestFixture, CancelAfter(300_000), Heavy]
public class FaultTests
{
    /// <summary>init that runs "chat" jobs one after another until the file "stop" appears,
    /// printing each status; chat prints a line.</summary>
    private static void ChatterTree(TempTree tree)
    {
        tree.Script("chat", "echo \"line from $CHAQUM_IDENT $(head -c 200 /dev/zero | tr '\\0' x)\"\n");
        tree.Script("init", Sh.Script("""
            n=0
            while [ ! -e stop ]; do
              cmd 'enqueue -- chat' >/dev/null; id=$(word 2)
              cmd "wait -- $id" >/dev/null
              echo "status $n $(word 3)"
              n=$((n+1))
            done
            """));
    }

    private static List<string> Statuses(HardDaemon d) =>
        d.Output("init").Where(l => l.StartsWith("status ")).Select(l => l.Split(' ')[2]).ToList();

    private static int StatusCount(HardDaemon d) => d.Output("init").Count(l => l.StartsWith("status "));

    private static void WaitForMoreJobs(HardDaemon d, int more)
    {
        int target = StatusCount(d) + more;
        // A deadline for a hang, not a pace: 1200 jobs one after another take minutes on a busy machine.
        Poll.Until(() => StatusCount(d) >= target, () => $"{more} more jobs to run; log tail:\n{d.Tail(20)}", TimeSpan.FromSeconds(more * 0.5 + 60));
    }

    [Test]
    public void A_job_dying_in_the_middle_of_a_sendmsg_changes_nothing_for_the_others()
    {
        using var tree = new TempTree();
        tree.Script("dier", "printf 'sendmsg -- %s 100\\n0123456789' \"$CHAQUM_PARENT\" >&3\nkill -9 $$\n");
        tree.Script("sender", "printf 'sendmsg -- %s 5\\nhello\\n' \"$CHAQUM_PARENT\" >&3\nIFS= read -r r <&4\necho \"$r\"\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- dier'; a=$(word 2)
            cmd "wait -- $a"
            cmd 'enqueue -- sender'; b=$(word 2)
            cmd "wait -- $b"
            printf 'recvmsg -t 10\n' >&3; IFS= read -r r <&4; echo "recv: $r"; IFS= read -r body <&4; echo "body: $body"
            """));
        using var d = HardDaemon.Start(tree);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0));
        Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S dier/\d+ -9$"));
        Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S sender/\d+ 0$"));
        Assert.That(d.Output("init"), Does.Contain("recv: S 5").And.Contain("body: hello"), "only the whole message arrived");
        Assert.That(d.Log, Does.Match(@"dier/\d+: fd 3 closed in the middle of a sendmsg; message dropped"));
    }

    [Test, CancelAfter(1_200_000)]
    public void A_full_disk_under_the_state_directory_and_the_log_file()
    {
        // Jobs keep running; each kind of problem is logged, not once per job; writing
        // resumes when there is room again, and what was recorded before is all there.
        Root.Require("mounts a tmpfs");
        using var tree = new TempTree();
        ChatterTree(tree);
        using var disk = Tmpfs.Mount(tree.StateDir, "64m");
        var logFile = Path.Combine(tree.StateDir, "chaqum.log");
        using var d = HardDaemon.Start(tree, new[] { "--log-file", logFile });
        WaitForMoreJobs(d, 30);
        int before = StatusCount(d);

        disk.Fill();
        WaitForMoreJobs(d, 1200); // crosses a job-number reservation (every 1000)
        disk.Free();
        Poll.Until(() => d.Log.Contains("history: writing again"), "the history to be written again", TimeSpan.FromSeconds(120));
        Poll.Until(() => d.Log.Contains(": writing again") && Regex.IsMatch(d.Log, "log file .*: writing again"),
            "the log file to be written again (retried every 5 s)", TimeSpan.FromSeconds(120));
        WaitForMoreJobs(d, 30);
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0));

        var statuses = Statuses(d);
        Assert.That(statuses, Is.All.EqualTo("0"), "every job ran, disk full or not");
        var log = d.Log;
        int jobs = statuses.Count;
        TestContext.Progress.WriteLine($"FIGURES disk full: {jobs} jobs; " + string.Join("; ", new[]
        {
            "history: cannot write", "history: writing again", "job output files in", "job numbers: cannot write",
            "job numbers: .* written again", "log file .*: cannot write", "log file .*: writing again",
        }.Select(p => $"'{p}' x{Regex.Count(log, p)}")));
        Assert.That(Regex.Count(log, "history: cannot write"), Is.InRange(1, 10), "the history problem is logged, not once per job");
        Assert.That(Regex.Count(log, @"job output files in .*; will retry"), Is.InRange(1, jobs / 10));
        Assert.That(Regex.Count(log, "job numbers: cannot write"), Is.EqualTo(1));
        Assert.That(log, Does.Match("job numbers: .* written again"));
        Assert.That(Regex.Count(log, @"log file .*: cannot write"), Is.InRange(1, 10));
        Assert.That(log, Does.Not.Contain("internal error"));
        Assert.That(log, Does.Not.Contain(": Success"), "every failure names its errno, read right after the call");

        // Every job is in the history, and the job number file is ahead of every number used.
        // Not pooled: a pooled connection would keep the file open and the tmpfs busy.
        using var db = new SqliteConnection($"Data Source={Path.Combine(tree.StateDir, "history.sqlite")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var count = db.CreateCommand();
        count.CommandText = "SELECT count(*) FROM runs WHERE script = 'chat'";
        Assert.That((long)count.ExecuteScalar()!, Is.EqualTo(jobs), "every run recorded, before, during and after the full disk");
        long stored = long.Parse(File.ReadAllText(Path.Combine(tree.StateDir, "next-job-number")).Trim());
        Assert.That(stored, Is.GreaterThan(jobs + 1));
        Assert.That(File.ReadAllText(logFile), Does.Contain("log file " + logFile + ": writing again"));
    }

    [Test]
    public void A_log_file_and_an_output_directory_that_cannot_be_written()
    {
        // Without CAP_DAC_OVERRIDE, as a daemon not running as root would be.
        Root.Require("setpriv changes the bounding set");
        using var tree = new TempTree();
        ChatterTree(tree);
        var logDir = tree.Root + ".logs";
        Directory.CreateDirectory(logDir);
        File.SetUnixFileMode(logDir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var logFile = Path.Combine(logDir, "chaqum.log");
        try
        {
            using var d = HardDaemon.Start(tree, new[] { "--log-file", logFile }, prefix: NoDacOverride);
            WaitForMoreJobs(d, 10);
            var output = Path.Combine(tree.StateDir, "output");
            File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            WaitForMoreJobs(d, 40);
            File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(logDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Poll.Until(() => File.Exists(logFile) && File.ReadAllText(logFile).Contains("writing again"), "the log file to be written (retried every 5 s)",
                TimeSpan.FromSeconds(120));
            Poll.Until(() => d.Log.Contains("job output files in " + output + ": writing again"), "output files to be written again");
            File.WriteAllText(tree.PathOf("stop"), "");
            Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0));

            Assert.That(Statuses(d), Is.All.EqualTo("0"));
            Assert.That(Regex.Count(d.Log, @"log file .*: cannot write \(Access to the path"), Is.EqualTo(1), "said once, at start");
            Assert.That(Regex.Count(d.Log, @"job output files in .*denied.*; will retry"), Is.EqualTo(1), "said once, not per job");
            var lastJob = d.Output("init").Count(l => l.StartsWith("status ")) + 1;
            Assert.That(File.Exists(Path.Combine(output, $"chat%2F{lastJob}.log")), Is.True, "the last job's output was kept again");
        }
        finally
        {
            File.SetUnixFileMode(logDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(logDir, true);
        }
    }

    internal static readonly string[] NoDacOverride = { "setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner" };

    /// <summary>60 jobs of a second each, all at once, for a daemon with few resources.</summary>
    /// <summary>60 naps that hold their descriptors and tasks until the test, having seen
    /// the limit it provokes reached (a log line), releases them: how many are alive at once
    /// never depends on how fast the machine spawns.</summary>
    private static void NapTree(TempTree tree)
    {
        tree.Script("nap", "while [ ! -e released ]; do sleep 0.2; done\n");
        tree.Script("init", Sh.Script("""
            ids=''
            i=0; while [ $i -lt 60 ]; do cmd 'enqueue -- nap' >/dev/null; ids="$ids $(word 2)"; i=$((i+1)); done
            cmd "wait -t 300 -- $ids" >/dev/null
            echo "$REPLY" | tr ' ' '\n' | grep -c '^0$' | sed 's/^/succeeded: /'
            """));
    }

    /// <summary>The gate: once the daemon says it holds jobs back at the limit, the naps may end.</summary>
    private static void ReleaseNapsAt(TempTree tree, HardDaemon d, string limitReached)
    {
        d.WaitForLine(Regex.Escape(limitReached), TimeSpan.FromSeconds(120));
        File.WriteAllText(tree.PathOf("released"), "");
    }

    [Test]
    public void Out_of_file_descriptors_jobs_wait_and_the_daemon_survives()
    {
        using var tree = new TempTree();
        NapTree(tree);
        using var d = HardDaemon.Start(tree, prefix: new[] { "prlimit", "--nofile=300:300" });
        ReleaseNapsAt(tree, d, "too few file descriptors left");
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0));
        Assert.That(d.Output("init"), Does.Contain("succeeded: 60"));
        Assert.That(d.Log, Does.Contain("too few file descriptors left (limit 300"));
        Assert.That(d.Log, Does.Match("trying again in"));
        Assert.That(d.Log, Does.Not.Contain("internal error"));
    }

    [Test]
    public void Out_of_processes_jobs_wait_and_the_daemon_survives()
    {
        // RLIMIT_NPROC counts every task of the uid, the daemon's threads included: without
        // a reserve the runtime could not start a thread and aborted ("Out of memory.").
        // A uid of its own: any other process of a shared uid would count against the limit.
        Root.Require("setpriv runs the daemon as another uid");
        int uid = SpareUid.Pick();
        using var tree = new TempTree();
        NapTree(tree);
        ChownTree(tree, uid);
        // (Dispose kills what is left: the daemon, and processes naming the tree.)
        using var d = HardDaemon.Start(tree, prefix: new[]
        {
            "setpriv", $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "prlimit", "--nproc=90:90",
        });
        ReleaseNapsAt(tree, d, "the user's process limit is near");
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), d.Tail(20));
        Assert.That(d.Output("init"), Does.Contain("succeeded: 60"));
        Assert.That(d.Log, Does.Contain("the user's process limit is near"));
    }

    [Test]
    public void Out_of_tasks_in_the_cgroup_jobs_wait_and_the_daemon_survives()
    {
        // systemd's TasksMax: the cgroup's pids.max. Same abort without a reserve.
        Root.Require("creates a cgroup");
        using var tree = new TempTree();
        NapTree(tree);
        using var cgroup = PidsCgroup.Create(limit: 80);
        using var d = HardDaemon.Start(tree, prefix: new[] { "sh", "-c", $"echo $$ > {cgroup.Procs} && exec \"$@\"", "sh" });
        ReleaseNapsAt(tree, d, "the cgroup's task limit is near");
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), d.Tail(20));
        Assert.That(d.Output("init"), Does.Contain("succeeded: 60"));
        Assert.That(d.Log, Does.Contain("the cgroup's task limit is near"));
        TestContext.Progress.WriteLine($"FIGURES cgroup pids.max 80: peak {cgroup.Peak} tasks");
    }

    [Test]
    public void Stopped_and_continued_the_daemon_catches_up()
    {
        // While the daemon is stopped, jobs end (zombies pile up), timeouts fall due and
        // commands wait in the pipes; after SIGCONT all of it is handled, in order.
        using var tree = new TempTree();
        tree.Script("nap", "sleep 0.3\n");
        tree.Script("long", "sleep 30\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -t 1 -- long'; l=$(word 2)
            ids=''
            i=0; while [ $i -lt 30 ]; do cmd 'enqueue -- nap' >/dev/null; ids="$ids $(word 2)"; i=$((i+1)); done
            echo enqueued
            cmd "wait -t 300 -- $ids" >/dev/null
            echo "$REPLY" | tr ' ' '\n' | grep -c '^0$' | sed 's/^/succeeded: /'
            cmd "wait -- $l"
            """));
        using var d = HardDaemon.Start(tree);
        d.WaitForLine(@"init\[out\] enqueued");
        d.Signal(19); // SIGSTOP
        Thread.Sleep(3000);
        var zombies = d.ZombieChildren().Count;
        d.Signal(18); // SIGCONT
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0));
        Assert.That(d.Output("init"), Does.Contain("succeeded: 30"));
        Assert.That(d.Output("init").Last(), Does.Match(@"^reply: S long/\d+ -15$"), "the overdue timeout fired");
        Assert.That(d.Log, Does.Match(@"long/\d+: timed out"));
        TestContext.Progress.WriteLine($"FIGURES SIGSTOP 3 s: {zombies} zombies waiting while stopped, all reaped after SIGCONT");
    }

    [Test]
    public void One_sigterm_gives_jobs_their_grace_period()
    {
        // The host's own SIGTERM handling used to count as a second stop request, so a
        // single SIGTERM killed every job with SIGKILL at once.
        using var tree = new TempTree();
        tree.Script("init", "trap 'echo got TERM; exit 0' TERM\necho started\nwhile :; do sleep 0.1; done\n");
        using var d = HardDaemon.Start(tree, new[] { "--grace", "30" });
        d.WaitForLine(@"init\[out\] started");
        d.Signal(15);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(20)), Is.EqualTo(0));
        Assert.That(d.Output("init"), Does.Contain("got TERM"));
        Assert.That(d.Log, Does.Not.Contain("second stop request"));
        Assert.That(d.Log, Does.Match(@"init: exited: exit 0"));
    }

    private static void ChownTree(TempTree tree, int uid)
    {
        foreach (var path in new[] { tree.Root }.Concat(Directory.EnumerateFileSystemEntries(tree.Root, "*", SearchOption.AllDirectories)))
            Posix.chown(path, uid, uid);
        Directory.CreateDirectory(tree.StateDir);
        Posix.chown(tree.StateDir, uid, uid);
    }
}
