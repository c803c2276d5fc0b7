using System.Text.Json.Nodes;
using Chaqum.Tests.Daemon;

namespace Chaqum.Tests.Control;

/// <summary>chaqumctl against a real daemon: every subcommand, JSON shapes, exit codes.</summary>
[TestFixture, CancelAfter(180_000)]
public class ChaqumctlTests
{
    /// <summary>A tree whose init keeps the daemon alive until a file "stop" appears.</summary>
    private static DaemonProcess Start(TempTree tree, string initBody)
    {
        tree.Script("init", Sh.Script(initBody + "\nwhile [ ! -e stop ]; do sleep 0.05; done\n"));
        var d = DaemonProcess.Start(tree);
        Poll.Until(() => Ctl.Run(tree, "ps", "--json").Exit == 0, "the control socket to answer");
        return d;
    }

    private static JsonArray Ps(TempTree tree, params string[] extra)
    {
        var r = Ctl.Run(tree, new[] { "ps", "--json" }.Concat(extra).ToArray());
        Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
        return r.Json.AsArray();
    }

    private static JsonNode? Job(TempTree tree, string idPattern) =>
        Ps(tree).FirstOrDefault(j => System.Text.RegularExpressions.Regex.IsMatch(j!["id"]!.GetValue<string>(), "^" + idPattern + "$"));

    [Test]
    public void Ps_lists_jobs_with_the_documented_fields()
    {
        using var tree = new TempTree();
        tree.Script("sleeper", "sleep 3600\n");
        using var d = Start(tree, "cmd 'enqueue -g slow -m 1 -- sleeper a b'\ncmd 'enqueue -g slow -- sleeper c'");
        Poll.Until(() => Job(tree, @"sleeper/\d+") is { } j && j["state"]!.GetValue<string>() == "running", "the sleeper to run");
        var jobs = Ps(tree);
        var running = jobs.First(j => j!["state"]!.GetValue<string>() == "running" && j["script"]!.GetValue<string>() == "sleeper")!;
        foreach (var field in new[] { "id", "script", "args", "state", "group", "parent", "pid", "enqueued_at", "started_at", "runtime_seconds", "usual_seconds", "longer_than_usual" })
            Assert.That(running.AsObject().ContainsKey(field), Is.True, $"field {field}");
        Assert.That(running["args"]!.AsArray().Select(a => a!.GetValue<string>()), Is.EqualTo(new[] { "a", "b" }));
        Assert.That(running["group"]!.GetValue<string>(), Is.EqualTo("slow"));
        Assert.That(running["parent"]!.GetValue<string>(), Is.EqualTo("init"));
        Assert.That(running["pid"]!.GetValue<int>(), Is.GreaterThan(1));
        Assert.That(jobs.Any(j => j!["state"]!.GetValue<string>() == "queued" && j["pid"] is null), Is.True);

        var table = Ctl.Run(tree, "ps");
        Assert.That(table.Exit, Is.EqualTo(0));
        Assert.That(table.Lines[0], Does.Match(@"^ID\s+STATE\s+GROUP\s+PID\s+STARTED\s+RUNTIME\s+USUAL$"));
        Assert.That(table.Out, Does.Match(@"sleeper/\d+\s+running\s+slow\s+\d+"));
        Assert.That(Ctl.Run(tree, "ps", "-g", "nosuch", "--json").Json.AsArray(), Is.Empty);
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    [Test]
    public void A_run_longer_than_usual_is_flagged_shown_logged_killed_and_recorded()
    {
        using var tree = new TempTree();
        tree.Script("work", "echo \"working for $1\"\nsleep \"$1\"\necho done\n");
        using var d = Start(tree, """
            for i in 1 2 3; do cmd 'enqueue -- work 0.05'; cmd "wait -- $(word 2)"; done
            cmd 'enqueue -- work 3600'; echo "slow=$(word 2)" > slow.id
            """);
        Poll.Until(() => tree.Exists("slow.id"), "the slow run to start");
        string slow = tree.Read("slow.id").Trim()[5..];
        Poll.Until(() => Job(tree, slow)?["longer_than_usual"]?.GetValue<bool>() == true, "ps to flag the slow run LONGER");
        var job = Job(tree, slow)!;
        Assert.That(job["usual_seconds"]!.GetValue<double>(), Is.GreaterThan(0).And.LessThan(60), "the quick runs' median, far below the slow run");
        Assert.That(Ctl.Run(tree, "ps").Out, Does.Match(slow + @"\s+running.*LONGER"));

        var show = Ctl.Run(tree, "show", slow);
        Assert.That(show.Exit, Is.EqualTo(0), show.ToString());
        Assert.That(show.Out, Does.Contain("command      work 3600"));
        Assert.That(show.Out, Does.Contain("LONGER than usual"));
        Assert.That(show.Out, Does.Contain("parents      init"));
        Assert.That(show.Out, Does.Match(@"\[out\] working for 3600"));
        var showJson = Ctl.Run(tree, "show", slow, "--json").Json;
        Assert.That(showJson["rss_bytes"]!.GetValue<long>(), Is.GreaterThan(0));
        Assert.That(showJson["processes"]!.GetValue<int>(), Is.GreaterThanOrEqualTo(1));

        var log = Ctl.Run(tree, "log", slow);
        Assert.That(log.Lines, Has.Some.Match(@"^\d\d:\d\d:\d\d\.\d{3} \[out\] working for 3600$"));

        var killlist = Ctl.Run(tree, "killlist", "--yes");
        Assert.That(killlist.Exit, Is.EqualTo(0), killlist.ToString());
        Assert.That(killlist.Out, Does.Contain($"{slow}: sent SIGTERM"));
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));

        var history = Ctl.Exec(new[] { "--state-dir", tree.StateDir, "history", "--json" }).Json.AsArray();
        var record = history.Single(r => r!["id"]!.GetValue<string>() == slow)!;
        Assert.That(record["signal"]!.GetValue<int>(), Is.EqualTo(15));
        Assert.That(record["exit_code"], Is.Null);
        Assert.That(record["outcome"]!.GetValue<string>(), Is.EqualTo("killed"));
        foreach (var field in new[] { "id", "script", "args", "group", "parent", "attempt", "started_at", "ended_at", "runtime_seconds", "exit_code", "signal", "outcome" })
            Assert.That(record.AsObject().ContainsKey(field), Is.True, $"history field {field}");
        Assert.That(history.Count(r => r!["script"]!.GetValue<string>() == "work" && r["outcome"]!.GetValue<string>() == "exited"), Is.EqualTo(3));
    }

    [Test]
    public void Log_follow_streams_until_the_job_ends_and_run_exits_with_the_status()
    {
        using var tree = new TempTree();
        tree.Script("talker", "for i in 1 2 3; do echo \"line $i\"; sleep 0.2; done\necho oops >&2\nexit 3\n");
        tree.Script("selfkill", "kill -USR1 $$\n");
        tree.Script("broken", "#!/nonexistent/interpreter\n");
        using var d = Start(tree, "");
        var run = Ctl.Run(tree, "run", "talker");
        Assert.That(run.Exit, Is.EqualTo(3), run.ToString());
        Assert.That(run.Lines, Is.EqualTo(new[] { "line 1", "line 2", "line 3" }));
        Assert.That(run.Err, Does.Contain("oops"));
        Assert.That(Ctl.Run(tree, "run", "--", "selfkill").Exit, Is.EqualTo(128 + 10));
        Assert.That(Ctl.Run(tree, "run", "broken").Exit, Is.EqualTo(125));

        var enqueued = Ctl.Run(tree, "enqueue", "-g", "x", "-t", "30", "--", "talker");
        Assert.That(enqueued.Exit, Is.EqualTo(0), enqueued.ToString());
        string id = enqueued.Out.Trim();
        Assert.That(id, Does.Match(@"^talker/\d+$"));
        var follow = Ctl.Run(tree, "log", "-f", id);
        Assert.That(follow.Exit, Is.EqualTo(0));
        Assert.That(follow.Lines.Select(l => l[13..]), Is.EqualTo(new[] { "[out] line 1", "[out] line 2", "[out] line 3", "[err] oops" }));
        Assert.That(Ctl.Run(tree, "log", "-n", "1", id).Lines.Single(), Does.EndWith("[err] oops"));
        Assert.That(Ctl.Run(tree, "enqueue", "nosuch").Exit, Is.EqualTo(1));
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    [Test]
    public void Kill_asks_for_confirmation_when_others_wait_on_the_target()
    {
        using var tree = new TempTree();
        tree.Script("victim", "sleep 3600\n");
        tree.Script("lonely", "sleep 3600\n");
        using var d = Start(tree, "cmd 'enqueue -- victim'; echo \"$(word 2)\" > victim.id\ncmd 'enqueue -- lonely'; echo \"$(word 2)\" > lonely.id\ncmd \"wait -- $(cat victim.id)\"");
        Poll.Until(() => tree.Exists("lonely.id"), "jobs to start");
        string victim = tree.Read("victim.id").Trim(), lonely = tree.Read("lonely.id").Trim();
        Poll.Until(() => Ctl.Run(tree, "show", victim, "--json").Json["waited_on_by"]!.AsArray().Count == 1, "init to wait on the victim");

        var refused = Ctl.Run(tree, "kill", victim);
        Assert.That(refused.Exit, Is.EqualTo(1), refused.ToString());
        Assert.That(refused.Err, Does.Contain($"{victim} is waited on by init"));
        Assert.That(refused.Err, Does.Contain("use --yes"));
        Assert.That(Job(tree, victim)!["state"]!.GetValue<string>(), Is.EqualTo("running"));

        var free = Ctl.Run(tree, "kill", lonely);
        Assert.That(free.Exit, Is.EqualTo(0), "nobody waits on it: no question");
        Assert.That(free.Out, Does.Contain($"{lonely}: sent SIGTERM"));

        var forced = Ctl.Run(tree, "kill", "--yes", "-s", "KILL", victim);
        Assert.That(forced.Exit, Is.EqualTo(0));
        Assert.That(forced.Out, Does.Contain($"{victim}: sent SIGKILL"));
        Assert.That(Ctl.Run(tree, "kill", "nosuch/1").Exit, Is.EqualTo(1));
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S victim/\d+ -9$"));
    }

    [Test]
    public void Pause_and_resume_a_group_and_a_job_renice_and_prio()
    {
        using var tree = new TempTree();
        tree.Script("work", "echo \"$1\" >> order\nsleep 3600\n");
        using var d = Start(tree, "cmd 'group -m 1 -- g'");
        Assert.That(Ctl.Run(tree, "pause", "g").Out.Trim(), Is.EqualTo("group g: paused"));
        var a = Ctl.Run(tree, "enqueue", "-g", "g", "work", "a").Out.Trim();
        var b = Ctl.Run(tree, "enqueue", "-g", "g", "work", "b").Out.Trim();
        var c = Ctl.Run(tree, "enqueue", "-g", "g", "work", "c").Out.Trim();
        var groups = Ctl.Run(tree, "groups", "--json").Json.AsArray().Single(g => g!["name"]?.GetValue<string>() == "g")!;
        Assert.That(groups["queued"]!.GetValue<int>(), Is.EqualTo(3));
        Assert.That(groups["held_by"]!.GetValue<string>(), Is.EqualTo("paused"));
        Assert.That(Ctl.Run(tree, "prio", c, "9").Exit, Is.EqualTo(0));
        Assert.That(Ctl.Run(tree, "resume", "g").Out.Trim(), Is.EqualTo("group g: resumed"));
        Poll.Until(() => tree.Exists("order"), "the first job to start");
        Assert.That(tree.Read("order").Trim(), Is.EqualTo("c"), "prio moved c to the front");

        var pid = Job(tree, c)!["pid"]!.GetValue<int>();
        Assert.That(Ctl.Run(tree, "pause", c).Out.Trim(), Is.EqualTo($"{c}: paused"));
        Poll.Until(() => ProcState(pid) == 'T', "the job to be stopped");
        Assert.That(Job(tree, c)!["state"]!.GetValue<string>(), Is.EqualTo("paused"));
        Assert.That(Ctl.Run(tree, "resume", c).Out.Trim(), Is.EqualTo($"{c}: running"));
        Poll.Until(() => ProcState(pid) is 'S' or 'R', "the job to continue");

        Assert.That(Ctl.Run(tree, "renice", c, "7").Exit, Is.EqualTo(0));
        Assert.That(Nice(pid), Is.EqualTo(7));
        Assert.That(Ctl.Run(tree, "renice", a, "7").Exit, Is.EqualTo(1), "a queued job cannot be reniced");
        Assert.That(Ctl.Run(tree, "prio", c, "1").Exit, Is.EqualTo(1), "a running job has no queue place");
        Assert.That(Ctl.Run(tree, "pause", "nosuch").Exit, Is.EqualTo(1));
        _ = b;
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    [Test]
    public void Groups_named_per_item_are_gone_once_their_jobs_end_and_configured_ones_stay()
    {
        using var tree = new TempTree();
        tree.Script("ok", "exit 0\n");
        using var d = Start(tree, """
            cmd 'group -m 2 -- kept'
            ids=
            i=0
            while [ $i -lt 40 ]; do cmd "enqueue -g item-$i -- ok"; ids="$ids $(word 2)"; i=$((i + 1)); done
            cmd "wait --$ids"
            touch waited
            """);
        Poll.Until(() => tree.Exists("waited"), "init to wait for its 40 jobs");
        var names = Ctl.Run(tree, "groups", "--json").Json.AsArray().Select(g => g!["name"]?.GetValue<string>()).ToList();
        Assert.That(names.Where(n => n is not null && n.StartsWith("item-")), Is.Empty, "no group is left of the 40 items");
        Assert.That(names, Does.Contain("kept"), "a group with a limit stays");
        // Named again, a group comes back as new.
        Assert.That(Ctl.Run(tree, "enqueue", "-g", "item-3", "ok").Exit, Is.EqualTo(0));
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    private static char ProcState(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }

    private static int Nice(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16]);
    }

    [Test]
    public void Tree_repeats_snapshot_and_diff()
    {
        using var tree = new TempTree();
        tree.Script("child", Sh.Script("while [ ! -e go ]; do sleep 0.05; done\ncmd 'enqueue -- grandchild'\nsleep 3600"));
        tree.Script("grandchild", "sleep 3600\n");
        tree.Script("tick", "exit 0\n");
        using var d = Start(tree, "cmd 'repeat -i 1h -- tick'\ncmd 'enqueue -- child'");
        var before = Path.Combine(tree.StateDir + "-a.json");
        Poll.Until(() => Ps(tree).Any(j => j!["script"]!.GetValue<string>() == "child"), "the child");
        Assert.That(Ctl.Run(tree, "snapshot", "-o", before).Exit, Is.EqualTo(0));
        File.WriteAllText(tree.PathOf("go"), "");
        Poll.Until(() => Ps(tree).Any(j => j!["script"]!.GetValue<string>() == "grandchild" && j["state"]!.GetValue<string>() == "running"), "the grandchild");

        var lines = Ctl.Run(tree, "tree").Lines;
        Assert.That(lines[0], Does.Match("^init  running$"));
        Assert.That(lines, Has.Some.Match(@"^  child/\d+  running$"));
        Assert.That(lines, Has.Some.Match(@"^    grandchild/\d+  running$"));

        var repeats = Ctl.Run(tree, "repeats", "--json").Json.AsArray();
        Assert.That(repeats.Single()!["schedule"]!.GetValue<string>(), Is.EqualTo("every 1h"));
        Assert.That(repeats.Single()!["next_at"], Is.Not.Null);
        Assert.That(Ctl.Run(tree, "repeats").Out, Does.Contain("every 1h"));

        var after = Path.Combine(tree.StateDir + "-b.json");
        Assert.That(Ctl.Run(tree, "snapshot", "-o", after).Exit, Is.EqualTo(0));
        var diff = Ctl.Exec(new[] { "diff", before, after });
        Assert.That(diff.Lines, Has.Some.Match(@"^\+ grandchild/\d+  running$"));
        var snapshot = Ctl.Run(tree, "snapshot").Json;
        Assert.That(snapshot["jobs"]!.AsArray().Count, Is.GreaterThanOrEqualTo(3));
        Assert.That(snapshot["groups"], Is.Not.Null);
        Assert.That(snapshot["repeats"]!.AsArray().Count, Is.EqualTo(1));
        File.Delete(before);
        File.Delete(after);
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    [Test]
    public void History_and_stats_survive_a_restart_and_need_no_daemon()
    {
        using var tree = new TempTree();
        tree.Script("ok", "exit 0\n");
        tree.Script("bad", "exit 2\n");
        tree.Script("init", Sh.Script("for s in ok ok bad; do cmd \"enqueue -- $s\"; cmd \"wait -- $(word 2)\"; done"));
        for (int run = 0; run < 2; run++)
        {
            using var d = DaemonProcess.Start(tree);
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
        }
        var history = Ctl.Exec(new[] { "--state-dir", tree.StateDir, "history", "--json" }).Json.AsArray();
        Assert.That(history.Count(h => h!["script"]!.GetValue<string>() == "ok"), Is.EqualTo(4));
        Assert.That(history.Select(h => h!["id"]!.GetValue<string>()).Where(id => id != "init"), Is.Unique,
            "ids never repeat across restarts (the entry job is always called init)");
        var failed = Ctl.Exec(new[] { "--state-dir", tree.StateDir, "history", "--failed", "--json" }).Json.AsArray();
        Assert.That(failed.Select(h => h!["script"]!.GetValue<string>()).Distinct(), Is.EqualTo(new[] { "bad" }));
        Assert.That(failed.All(h => h!["exit_code"]!.GetValue<int>() == 2 && h["outcome"]!.GetValue<string>() == "failed"), Is.True);
        var stats = Ctl.Exec(new[] { "--state-dir", tree.StateDir, "stats", "--json" }).Json.AsArray();
        var ok = stats.Single(s => s!["script"]!.GetValue<string>() == "ok")!;
        Assert.That(ok["runs"]!.GetValue<int>(), Is.EqualTo(4));
        Assert.That(ok["failures"]!.GetValue<int>(), Is.EqualTo(0));
        Assert.That(ok["median_seconds"], Is.Not.Null);
        Assert.That(Ctl.Exec(new[] { "--state-dir", tree.StateDir, "history", "--script", "bad" }).Out, Does.Contain("failed"));
        Assert.That(Ctl.Exec(new[] { "--state-dir", tree.StateDir, "stats" }).Out, Does.Match(@"ok\s+4\s+0"));
    }

    [Test]
    public void Killlist_with_an_editor_kills_the_lines_kept_and_nothing_when_the_editor_fails()
    {
        using var tree = new TempTree();
        tree.Script("work", "sleep \"$1\"\n");
        tree.Script("keep-editor", "#!/bin/sh\nsed -i '/spare/d' \"$1\"\n");
        tree.Script("fail-editor", "#!/bin/sh\nexit 1\n");
        tree.Script("spare", "sleep \"$1\"\n");
        using var d = Start(tree, """
            for s in work spare; do cmd "enqueue -- $s 0.05"; cmd "wait -- $(word 2)"; done
            cmd 'enqueue -- work 3600'; echo "$(word 2)" > w.id
            cmd 'enqueue -- spare 3600'; echo "$(word 2)" > s.id
            """);
        Poll.Until(() => tree.Exists("s.id"), "the long runs");
        string w = tree.Read("w.id").Trim(), s = tree.Read("s.id").Trim();
        Poll.Until(() => Ps(tree).Count(j => j!["longer_than_usual"]!.GetValue<bool>()) == 2, "both to run longer than usual");

        var dry = Ctl.Run(tree, "killlist", "--dry-run");
        Assert.That(dry.Lines, Has.Some.StartWith(w).And.Some.StartWith(s));

        var failed = Ctl.Exec(new[] { "-t", tree.Root, "killlist" }, new Dictionary<string, string?> { ["VISUAL"] = null, ["EDITOR"] = tree.PathOf("fail-editor") });
        Assert.That(failed.Exit, Is.EqualTo(1), failed.ToString());
        Assert.That(failed.Err, Does.Contain("nothing killed"));
        Assert.That(Job(tree, w)!["state"]!.GetValue<string>(), Is.EqualTo("running"));

        var kept = Ctl.Exec(new[] { "-t", tree.Root, "killlist" }, new Dictionary<string, string?> { ["VISUAL"] = tree.PathOf("keep-editor") });
        Assert.That(kept.Exit, Is.EqualTo(0), kept.ToString());
        Assert.That(kept.Out, Does.Contain($"{w}: sent SIGTERM"));
        Assert.That(kept.Out, Does.Not.Contain(s));
        Poll.Until(() => Job(tree, w) is null, "the kept line's job to end");
        Assert.That(Job(tree, s)!["state"]!.GetValue<string>(), Is.EqualTo("running"), "the deleted line's job lives");
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    [Test]
    public void Killlist_inside_a_job_never_kills_that_job()
    {
        using var tree = new TempTree();
        var ctl = $"dotnet exec {Ctl.Dll}";
        tree.Script("work", "sleep \"$1\"\n");
        // Quick runs give "review" a usual runtime of a few milliseconds; the real review
        // then runs far longer than that, like a scheduled review under load. It waits
        // until ps flags the long work LONGER, however long the machine takes to get there.
        tree.Script("review", $"[ \"$1\" = quick ] && exit 0\n" +
            $"until {ctl} ps | grep \"^$(cat work.id) .*LONGER\" >/dev/null; do sleep 0.1; done\n" +
            $"{ctl} killlist --yes\necho \"killlist exit $?\"\n");
        using var d = Start(tree, """
            for s in 'work 0.05' 'review quick' 'review quick'; do cmd "enqueue -- $s"; cmd "wait -- $(word 2)"; done
            cmd 'enqueue -- work 3600'; echo "$(word 2)" > work.id
            cmd 'enqueue -- review'; cmd "wait -- $(word 2)"
            """);
        // Three waits for a review answer: two quick ones, then the real one.
        Poll.Until(() => d.Output("init").Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^reply: S review/\d+ \S+$")) == 3,
            () => $"the review to end. Log:\n{d.Log}");
        string work = tree.Read("work.id").Trim();
        Assert.That(d.Output("init").Last(), Does.Match(@"^reply: S review/\d+ 0$"), d.Log);
        Assert.That(d.Output(@"review/\d+"), Is.EqualTo(new[] { $"{work}: sent SIGTERM", "killlist exit 0" }), d.Log);
        File.WriteAllText(tree.PathOf("stop"), "");
    }

    [Test, UsesNobody]
    public void Another_uid_is_refused_by_file_permissions_and_by_peer_credentials()
    {
        Root.Require("setpriv runs chaqumctl as another uid");
        using var tree = new TempTree();
        var socket = Path.Combine(tree.StateDir + "-run", "ctl.sock");
        tree.Script("init", "while [ ! -e stop ]; do sleep 0.05; done\n");
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "--control", socket });
        Poll.Until(() => File.Exists(socket), "the socket");
        Assert.That(File.GetUnixFileMode(socket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(File.GetUnixFileMode(Path.GetDirectoryName(socket)!) & (UnixFileMode)0x3F, Is.EqualTo((UnixFileMode)0), "no group or other bits");
        var asNobody = new[] { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups" };
        var env = new Dictionary<string, string?> { ["DOTNET_CLI_HOME"] = "/tmp", ["HOME"] = "/tmp" };

        var denied = Ctl.Exec(new[] { "--socket", socket, "ps" }, env, asNobody);
        Assert.That(denied.Exit, Is.EqualTo(3), denied.ToString());
        Assert.That(denied.Err, Does.Contain("permission denied"));

        // Even with the permissions opened by hand, the daemon checks who connects.
        File.SetUnixFileMode(Path.GetDirectoryName(socket)!, (UnixFileMode)0x1FF);
        File.SetUnixFileMode(socket, (UnixFileMode)0x1B6);
        var refused = Ctl.Exec(new[] { "--socket", socket, "ps" }, env, asNobody);
        Assert.That(refused.Exit, Is.EqualTo(3), refused.ToString());
        Assert.That(refused.Err, Does.Contain("permission denied"));
        Assert.That(d.Log, Does.Match(@"refused a connection from uid 65534"));
        Assert.That(Ctl.Exec(new[] { "--socket", socket, "ps" }).Exit, Is.EqualTo(0), "the daemon's own uid is served");
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Directory.Delete(Path.GetDirectoryName(socket)!, true);
    }

    [Test]
    public void Jobs_find_the_daemon_through_CHAQUM_CONTROL_and_errors_have_exit_codes()
    {
        using var tree = new TempTree();
        var ctl = $"dotnet exec {Ctl.Dll}";
        tree.Script("init", $"{ctl} ps --json > ps.json; echo \"ps exit $?\"\n{ctl} show nosuch/1; echo \"show exit $?\"\n");
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "ps exit 0", "show exit 1" }));
        Assert.That(JsonNode.Parse(tree.Read("ps.json"))!.AsArray().Single()!["id"]!.GetValue<string>(), Is.EqualTo("init"));
        var none = Ctl.Exec(new[] { "-t", tree.Root, "ps" });
        Assert.That(none.Exit, Is.EqualTo(3), "no daemon");
        Assert.That(Ctl.Exec(new[] { "ps", "--bogus" }).Exit, Is.EqualTo(2), "usage error");
        Assert.That(Ctl.Exec(new[] { "--help" }).Out, Does.Contain("killlist"));
    }
}
