using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Chaqum.Tests.Daemon;
using Chaqum.Tests.Hardening;

namespace Chaqum.Tests.Control;

/// <summary>
/// The control socket against hostile and broken clients, and chaqumctl against broken
/// surroundings: every request line gets one answer with a sentence, a line that never
/// ends or a follower that does not read costs the daemon a bounded amount of memory,
/// chaqumctl never shows a stack trace, and what jobs choose never reaches the terminal
/// raw. (docs/reliability.md, issue 11 items 6, 7, 8, 13, 14.)
/// </summary>
[TestFixture, CancelAfter(600_000)]
public class ControlHardeningTests
{
    /// <summary>Peak resident memory of a process so far, in MiB (VmHWM).</summary>
    private static double PeakMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmHWM:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        throw new AssertionException("no VmHWM");
    }

    private static HardDaemon Daemon(TempTree tree, string initBody)
    {
        tree.Script("init", Sh.Script(initBody + "\nwhile [ ! -e stop ]; do sleep 0.05; done\n"));
        var d = HardDaemon.Start(tree);
        d.HelloWhenUp();
        return d;
    }

    private static Ctl.Result Ctl_(HardDaemon d, params string[] args) =>
        Ctl.Exec(new[] { "--socket", d.SocketPath }.Concat(args).ToArray());

    [Test]
    public void Every_malformed_request_line_gets_one_answer_with_a_sentence_and_no_error_in_the_log()
    {
        using var tree = new TempTree();
        tree.Script("job", "exit 0\n");
        using var d = Daemon(tree, "");
        var lines = new (string Line, long Id)[]
        {
            ("null", 0), ("[1,2]", 0), ("42", 0), ("\"ps\"", 0), ("true", 0), ("{", 0), ("{\"cmd\":null}", 0), ("{\"cmd\":42}", 0),
            ("{\"cmd\":\"frob\"}", 0), ("{\"id\":\"x\",\"cmd\":\"ps\"}", 0), ("{\"v\":\"1\",\"cmd\":\"ps\"}", 0), ("{\"v\":2,\"cmd\":\"ps\"}", 0),
            ("{\"v\":1,\"id\":3,\"cmd\":\"ps\",\"args\":{\"all\":\"yes\"}}", 3),
            ("{\"id\":4,\"cmd\":\"ps\",\"args\":[]}", 4),
            ("{\"id\":5,\"cmd\":\"kill\",\"args\":{\"ids\":[null]}}", 5),
            ("{\"id\":6,\"cmd\":\"show\",\"args\":{\"id\":5}}", 6),
            ("{\"id\":7,\"cmd\":\"log\",\"args\":{\"id\":\"init\",\"lines\":\"a\"}}", 7),
            ("{\"id\":8,\"cmd\":\"renice\",\"args\":{\"id\":\"init\",\"nice\":1e99}}", 8),
            ("{\"id\":9,\"cmd\":\"wait\",\"args\":{\"ids\":\"init\"}}", 9),
            ("{\"id\":10,\"cmd\":\"pause\",\"args\":{\"target\":[\"x\"]}}", 10),
            ("{\"id\":11,\"cmd\":\"kill\",\"args\":{\"ids\":[\"init\"],\"signal\":{}}}", 11),
            // A NUL would cut the argument short at spawn: refused, as the job protocol does.
            ("{\"id\":12,\"cmd\":\"enqueue\",\"args\":{\"words\":[\"--\",\"job\",\"a\\u0000b\"]}}", 12),
            // Too deep to read: the id cannot be known either.
            ("{\"id\":13,\"cmd\":\"ps\",\"args\":{\"group\":" + new string('[', 5000) + new string(']', 5000) + "}}", 0),
            (new string('[', 100_000), 0),
            ("{\"id\":14,\"cmd\":\"enqueue\",\"args\":{\"words\":\"job\"}}", 14),
        };
        using (var c = new RawControl(d.SocketPath))
        {
            foreach (var (line, id) in lines)
            {
                c.Send(line + "\n");
                var answer = c.Answer();
                Assert.That(answer["ok"]?.GetValue<bool>(), Is.False, $"{Short(line)} → {answer.ToJsonString()}");
                var error = answer["error"]?.GetValue<string>();
                Assert.That(error, Is.Not.Null.And.Not.Empty, Short(line));
                Assert.That(error, Does.Not.Contain("System.").And.Not.Contain("internal error"), $"{Short(line)}: a sentence, not .NET's words");
                if (id != 0) Assert.That(answer["id"]!.GetValue<long>(), Is.EqualTo(id), Short(line));
                TestContext.Progress.WriteLine($"    {Short(line)} → {error}");
            }
            // The connection is still good.
            c.Send("{\"v\":1,\"id\":99,\"cmd\":\"hello\"}\n");
            var hello = c.Answer();
            Assert.That((hello["id"]!.GetValue<long>(), hello["ok"]!.GetValue<bool>()), Is.EqualTo((99L, true)));
        }
        var log = d.Log;
        Assert.That(log, Does.Not.Contain("internal error"));
        Assert.That(Regex.IsMatch(log, @"^\S+ (ERR|FTL|CRT) ", RegexOptions.Multiline), Is.False, "a client's mistake is never an error of the daemon:\n" + log);
        Assert.That(log, Does.Not.Contain("   at "), "no stack trace");
    }

    private static string Short(string line) => line.Length > 60 ? line[..60] + "..." : line;

    [Test]
    public void A_request_line_that_never_ends_is_refused_at_the_limit_and_costs_the_daemon_no_more()
    {
        using var tree = new TempTree();
        using var d = Daemon(tree, "");
        double before = PeakMiB(d.Pid);
        using (var c = new RawControl(d.SocketPath))
        {
            // 48 MiB without a LF, then the LF: a daemon that reads whole lines first holds
            // it all (several times over, as text); one that counts while reading refuses
            // it at 1 MiB and hangs up.
            var chunk = Encoding.ASCII.GetBytes(new string('a', 1024 * 1024));
            try
            {
                for (int i = 0; i < 48; i++) c.Send(chunk);
                c.Send("\n");
            }
            catch (System.Net.Sockets.SocketException) { }  // it hung up on us: that is the point
            var answer = c.Answer();
            Assert.That(answer["ok"]!.GetValue<bool>(), Is.False);
            Assert.That(answer["error"]!.GetValue<string>(), Does.StartWith("request too long"));
            Assert.That(c.ReadLine(), Is.Null, "the connection is closed after the refusal");
        }
        double growth = PeakMiB(d.Pid) - before;
        TestContext.Progress.WriteLine($"    peak memory grew by {growth:0.0} MiB for a 48 MiB line");
        Assert.That(growth, Is.LessThan(24), "a never-ending line costs the daemon about the limit, not its length");
        d.HelloWhenUp();
    }

    [Test]
    public void A_follower_that_does_not_read_costs_a_bounded_backlog_and_is_told_what_it_missed()
    {
        using var tree = new TempTree();
        // 320 MB of 8000-byte lines once "go" appears; "written" says all of it is in the
        // daemon's pipe (the daemon has read all but a pipe's worth of it).
        tree.Script("chatty", """
            echo ready
            while [ ! -e go ]; do sleep 0.05; done
            head -c 320000000 /dev/zero | tr '\0' x | fold -w 8000
            touch written
            while [ ! -e end ]; do sleep 0.05; done
            """);
        using var d = Daemon(tree, "cmd 'enqueue -- chatty'; word 2 > chatty.id");
        Poll.Until(() => tree.Exists("chatty.id") && tree.Read("chatty.id").Length > 0, "init to enqueue the chatty job");
        string id = tree.Read("chatty.id").Trim();

        using var follower = Ctl.Start(new[] { "--socket", d.SocketPath, "log", "-f", id });
        try
        {
            // The follower is following once it has printed the job's first line; from
            // now on nobody reads its output: its pipe fills, it stops reading the socket.
            var first = follower.StandardOutput.ReadLineAsync();
            Assert.That(first.Wait(Deadline.Seconds(120)), Is.True, "the follower's first line");
            Assert.That(first.Result, Does.EndWith("[out] ready"));
            double before = PeakMiB(d.Pid);

            File.WriteAllText(tree.PathOf("go"), "");
            Poll.Until(() => tree.Exists("written"), "the chatty job to write 320 MB", TimeSpan.FromMinutes(8));
            double growth = PeakMiB(d.Pid) - before;
            TestContext.Progress.WriteLine($"    peak memory grew by {growth:0.0} MiB while a stalled follower missed 320 MB");
            // Bounded, not proportional: about 70 MiB for 40 MB written, 100 MiB for 320 MB
            // (the backlog, and the garbage collector's room for a flood of short-lived
            // lines); a daemon that queued everything for the follower grows by twice the
            // volume, 640 MiB and more.
            Assert.That(growth, Is.LessThan(200), "a follower that does not read must not make the daemon hold the output");
            Assert.That(Ctl_(d, "ps", "--json").Exit, Is.EqualTo(0), "the daemon serves others meanwhile");

            // Now the follower reads: it gets the newest lines, the end, and a marker
            // where lines were dropped.
            File.WriteAllText(tree.PathOf("end"), "");
            var rest = follower.StandardOutput.ReadToEndAsync();
            Assert.That(follower.WaitForExit(TimeSpan.FromMinutes(4)), Is.True, "the follower to finish");
            Assert.That(rest.Wait(Deadline.Seconds(60)), Is.True);
            Assert.That(follower.ExitCode, Is.EqualTo(0), follower.StandardError.ReadToEnd());
            var marker = Regex.Match(rest.Result, @"^\[chaqumctl: (\d+) lines skipped here: this reader fell behind the job's output\]$", RegexOptions.Multiline);
            Assert.That(marker.Success, Is.True, "the skip marker in " + string.Join("\n", rest.Result.Split('\n').Select(l => l.Length > 80 ? l[..80] + "..." : l).Take(40)));
            Assert.That(long.Parse(marker.Groups[1].Value), Is.GreaterThan(1000));
            Assert.That(rest.Result[(marker.Index + marker.Length)..].Trim().Split('\n').Length, Is.GreaterThan(100), "the lines kept arrive after the marker");
        }
        finally
        {
            File.WriteAllText(tree.PathOf("end"), "");
            if (!follower.HasExited) follower.Kill(true);
        }
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    [Test]
    public void Chaqumctl_says_a_sentence_never_a_stack_trace()
    {
        using var tree = new TempTree();
        tree.Script("init", "exit 0\n");
        using (var d = DaemonProcess.Start(tree)) Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var db = Path.Combine(tree.StateDir, "history.sqlite");
        Assert.That(File.Exists(db), Is.True);

        void Sentence(Ctl.Result r, string what, params int[] statuses)
        {
            Assert.That(statuses, Does.Contain(r.Exit), $"{what}: {r}");
            Assert.That(r.Err, Does.StartWith("chaqumctl: "), $"{what}: {r}");
            Assert.That(r.Err, Does.Not.Contain("   at ").And.Not.Contain("Unhandled"), $"{what}: {r}");
            TestContext.Progress.WriteLine($"    {what}: {r.Err.Trim()}");
        }
        var history = new[] { "--state-dir", tree.StateDir, "history" };
        var stats = new[] { "--state-dir", tree.StateDir, "stats" };
        Assert.That(Ctl.Exec(history).Exit, Is.EqualTo(0));

        Sentence(Ctl.Exec(history.Append("--since").Append("99999999d").ToArray()), "--since 99999999d", 2);
        Sentence(Ctl.Exec(new[] { "-t", tree.Root, "-t", tree.Root, "ps" }), "-t twice", 2);
        Sentence(Ctl.Exec(new[] { "--socket", "/tmp/" + new string('s', 150), "ps" }), "--socket over 108 bytes", 2);
        Sentence(Ctl.Exec(new[] { "--socket", tree.Root + ".none.sock", "snapshot", "-o", "/nonexistent/x.json" }), "snapshot without daemon", 3);

        // A row edited by hand: no times at all.
        Sqlite(db, "UPDATE runs SET enqueued_at = NULL, started_at = NULL, ended_at = NULL");
        Sentence(Ctl.Exec(history), "a NULL time", 1);
        // Truncated, then replaced by something else.
        foreach (var f in Directory.GetFiles(tree.StateDir, "history.sqlite-*")) File.Delete(f);
        var bytes = File.ReadAllBytes(db);
        File.WriteAllBytes(db, bytes[..(bytes.Length / 3)]);
        Sentence(Ctl.Exec(history), "truncated history", 1);
        Sentence(Ctl.Exec(stats), "truncated history (stats)", 1);
        File.WriteAllText(db, "this is not a database, but it is long enough to look like one at first sight. " + new string('x', 200));
        Sentence(Ctl.Exec(history), "replaced history", 1);
        Sentence(Ctl.Exec(stats), "replaced history (stats)", 1);

        // The daemon's command line too.
        using var big = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "--history-days", "3000000" });
        int exit = big.WaitForExit();
        Assert.That(exit, Is.EqualTo(1).Or.EqualTo(2), big.Log);
        Assert.That(big.Log, Does.Contain("--history-days").And.Not.Contain("   at "), big.Log);
    }

    [Test]
    public void Snapshot_into_a_missing_directory_or_onto_a_full_device_is_a_sentence()
    {
        using var tree = new TempTree();
        using var d = Daemon(tree, "");
        foreach (var target in new[] { "/nonexistent-dir/snap.json", "/dev/full" })
        {
            var r = Ctl_(d, "snapshot", "-o", target);
            Assert.That(r.Exit, Is.EqualTo(1), r.ToString());
            Assert.That(r.Err, Does.StartWith($"chaqumctl: snapshot: cannot write {target}: ").And.Not.Contain("   at "), r.ToString());
        }
    }

    private static void Sqlite(string db, string sql)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Test]
    public void Control_characters_chosen_by_a_job_reach_the_terminal_escaped_and_json_exact()
    {
        using var tree = new TempTree();
        tree.Script("sleeper", "while [ ! -e stop ]; do sleep 0.05; done\n");
        using var d = Daemon(tree, """
            G=$(printf 'ev\033[2Jil\302\233x')
            K=$(printf 'k\033]0;owned\007')
            cmd "enqueue -g '$G' -k '$K' -- sleeper '$G'"
            word 2 > sleeper.id
            """);
        Poll.Until(() => tree.Exists("sleeper.id") && tree.Read("sleeper.id").Length > 0, "the sleeper to be enqueued");
        string id = tree.Read("sleeper.id").Trim();
        Poll.Until(() => Ctl_(d, "ps", "--json").Json.AsArray().Any(j => j!["id"]!.GetValue<string>() == id && j["state"]!.GetValue<string>() == "running"), "the sleeper to run");
        const string group = "ev\u001b[2Jil\u009bx";
        foreach (var args in new[] { new[] { "ps" }, new[] { "groups" }, new[] { "show", id }, new[] { "tree" } })
        {
            var r = Ctl_(d, args);
            Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
            Assert.That(r.Out, Does.Not.Contain("\u001b").And.Not.Contain("\u0007").And.Not.Contain("\u009b"), $"{args[0]}: nothing raw");
            if (args[0] != "tree") Assert.That(r.Out, Does.Contain(@"ev\x1b[2Jil\x9bx"), $"{args[0]} shows it escaped:\n{r.Out}");
        }
        Assert.That(Ctl_(d, "show", id).Out, Does.Contain(@"k\x1b]0;owned\x07"));
        var json = Ctl_(d, "show", "--json", id).Json;
        Assert.That(json["group"]!.GetValue<string>(), Is.EqualTo(group), "JSON stays exact");
        Assert.That(json["key"]!.GetValue<string>(), Is.EqualTo("k\u001b]0;owned\u0007"));
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    [Test]
    public void A_job_stopped_by_a_signal_shows_as_stopped()
    {
        using var tree = new TempTree();
        tree.Script("sleeper", "echo $$ > sleeper.pid\nwhile [ ! -e stop ]; do sleep 0.05; done\n");
        using var d = Daemon(tree, "cmd 'enqueue -- sleeper'; word 2 > sleeper.id");
        Poll.Until(() => tree.Exists("sleeper.pid") && tree.Read("sleeper.pid").Trim().Length > 0 &&
                         tree.Exists("sleeper.id") && tree.Read("sleeper.id").Trim().Length > 0, "the sleeper to run");
        string id = tree.Read("sleeper.id").Trim();
        int pid = int.Parse(tree.Read("sleeper.pid").Trim());
        string State() => Ctl_(d, "ps", "--json").Json.AsArray().Single(j => j!["id"]!.GetValue<string>() == id)!["state"]!.GetValue<string>();
        Assert.That(State(), Is.EqualTo("running"));
        Support.Native.kill(pid, 19);  // SIGSTOP, from outside the daemon
        Poll.Until(() => State() == "stopped", "ps to say stopped");
        Assert.That(Ctl_(d, "ps").Out, Does.Match(Regex.Escape(id) + @"\s+stopped"));
        Assert.That(Ctl_(d, "show", id).Out, Does.Contain("state        stopped"));
        Support.Native.kill(pid, 18);  // SIGCONT
        Poll.Until(() => State() == "running", "ps to say running again");
        File.WriteAllText(tree.PathOf("stop"), "");
    }
}
