using System.Diagnostics;

namespace Chaqum.Tests.Clients;

/// <summary>
/// The Python client library (clients/python): its own unittest suite, then the library,
/// and the compatibility module chaqum.lib for trees written for the original chaqum,
/// against the real daemon.
/// </summary>
[TestFixture, CancelAfter(120_000)]
public class PythonLibraryTests
{
    /// <summary>The clients/ directory the build copies next to the daemon (what
    /// CHAQUM_LIBDIR names for every job of the tests).</summary>
    private static string Clients => Path.Combine(AppContext.BaseDirectory, "clients");

    /// <summary>Peers every tree here may use.</summary>
    private static TempTree Tree()
    {
        var tree = new TempTree();
        tree.Script("exiter", "exit \"${1:-0}\"\n");
        tree.Script("sleeper", "exec sleep \"${1:-60}\"\n");
        tree.Script("counter", "echo fired >> \"$1\"\n");
        return tree;
    }

    private static string Python(string body) => "#!/usr/bin/env python3\n" + body.Replace("\r\n", "\n") + "\n";

    [Test]
    public void The_unittest_suite_passes()
    {
        var info = new ProcessStartInfo("python3")
        {
            WorkingDirectory = Clients,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            ArgumentList = { "-m", "unittest", "discover", "-v", "-s", "python/tests", "-t", "python" },
        };
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        foreach (var k in info.Environment.Keys.Where(k => k.StartsWith("CHAQUM_")).ToList()) info.Environment.Remove(k);
        using var p = Process.Start(info)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Deadline.Seconds(90)))
        {
            p.Kill(true);
            Assert.Fail("the unittest suite did not finish within 90 s");
        }
        p.WaitForExit();
        // unittest reports on stderr: one line per test, then "OK" or "FAILED (...)".
        Assert.That(p.ExitCode, Is.EqualTo(0), stderr.Result + stdout.Result);
        Assert.That(stderr.Result, Does.Match(@"Ran [1-9]\d* tests").And.Contain("\nOK"));
    }

    [Test]
    public void Wait_reports_every_kind_of_status_in_the_order_asked()
    {
        using var tree = Tree();
        tree.Script("broken", "#!/nonexistent/interpreter\n");
        tree.Script("init", Python("""
            import chaqum
            zero, three = chaqum.enqueue("exiter", 0), chaqum.enqueue("exiter", 3)
            sleeper, broken = chaqum.enqueue("sleeper"), chaqum.enqueue("broken")
            taken = chaqum.enqueue("exiter", 5)
            print("taken", taken.wait())
            statuses = chaqum.wait(zero, three, broken, taken, "nosuch/999")
            for job, status in statuses.items():
                print(job.id.split("/")[0], status, status.exit_code, status.ended)
            print("sleeper", chaqum.wait([sleeper], timeout=0.1)[sleeper])
            print("killed", sleeper.kill(signal="INT").signal)
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[]
        {
            "taken exit 5",
            "exiter exit 0 0 True",
            "exiter exit 3 3 True",
            "broken never-ran None True",
            "exiter unknown None False",
            "nosuch unknown None False",
            "sleeper pending",
            "killed 2",
        }), d.Log);
    }

    [Test]
    public void Enqueue_options_reach_the_scheduler()
    {
        using var tree = Tree();
        Directory.CreateDirectory(tree.PathOf("running"));
        tree.Script("worker", Python("""
            import os, time
            import chaqum
            me = chaqum.identity()
            mark = os.path.join("running", me.id.replace("/", "_"))
            os.mkdir(mark)
            with open("seen", "a") as f:
                f.write("%d %s %s %s\n" % (len(os.listdir("running")), me.group, me.slot, me.parent))
            time.sleep(0.2)
            os.rmdir(mark)
            """));
        tree.Script("rec", "printf '%s ' \"$1\" >> order\n");
        tree.Script("blocker", Python("import chaqum\nchaqum.receive(timeout=600)"));
        tree.Script("init", Python("""
            import chaqum
            pool = [chaqum.enqueue("worker", group="pool", max_procs=2, min_mem="1K") for _ in range(6)]
            print("pool", sorted(set(str(s) for s in chaqum.wait(pool).values())))

            chaqum.group("line", max_procs=1)
            blocker = chaqum.enqueue("blocker", group="line")  # holds the only place until told
            low = chaqum.enqueue("rec", "low", group="line")
            high = chaqum.enqueue("rec", "high", group="line", priority=5)
            last = chaqum.enqueue("rec", "after", after=[low, high])
            blocker.send("go")
            print("line", [str(s) for s in chaqum.wait(blocker, low, high, last).values()])

            a = chaqum.enqueue("sleeper", 600, key="only-one")
            b = chaqum.enqueue("sleeper", 600, key="only-one")
            print("key", a == b, a.kill())
            print("timeout", chaqum.enqueue("sleeper", timeout=0.2).wait())
            print("retries", chaqum.enqueue("exiter", 1, retries=1).wait())
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[]
        {
            "pool ['exit 0']",
            "line ['exit 0', 'exit 0', 'exit 0', 'exit 0']",
            "key True signal 15",
            "timeout signal 15",
            "retries exit 1",
        }), d.Log);
        var seen = tree.Read("seen").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToList();
        Assert.That(seen, Has.Count.EqualTo(6));
        Assert.That(seen.Max(s => int.Parse(s[0])), Is.LessThanOrEqualTo(2), "at most max_procs at once");
        Assert.That(seen.Select(s => s[1]), Has.All.EqualTo("pool"));
        Assert.That(seen.Select(s => s[2]), Has.All.AnyOf("0", "1"));
        Assert.That(seen.Select(s => s[3]), Has.All.EqualTo("init"));
        Assert.That(tree.Read("order"), Is.EqualTo("high low after "));
        Assert.That(d.Log, Does.Match(@"exiter/\d+: attempt 1 ended with exit 1"));
    }

    [Test]
    public void Repeats_fire_until_cancelled()
    {
        using var tree = Tree();
        tree.Script("init", Python("""
            import os, time
            import chaqum

            def fired(name):
                return os.path.exists(name) and len(open(name).readlines())

            every = chaqum.repeat("counter", "interval.txt", interval=0.2, overlap=True, group="rep", max_procs=1)
            cron = chaqum.repeat("counter", "cron.txt", cron="*/1 * * * * *", timeout=5)
            while fired("interval.txt") < 2 or fired("cron.txt") < 1:
                time.sleep(0.05)
            every.cancel()
            chaqum.unrepeat(cron)
            try:
                chaqum.unrepeat(cron)
            except chaqum.ChaqumError as e:
                print("again:", e.reason)
            print("repeats", every.id.startswith("repeat:"), cron.id.startswith("repeat:"))
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), "the daemon ends once the repeats are gone");
        var init = d.Output("init");
        Assert.That(init, Has.Count.EqualTo(2), d.Log);
        Assert.That(init[0], Does.Match(@"^again: unrepeat: unknown repeat id repeat:\d+$"));
        Assert.That(init[1], Is.EqualTo("repeats True True"));
    }

    [Test]
    public void Messages_travel_as_bytes_text_and_json()
    {
        using var tree = Tree();
        tree.Script("child", Python("""
            import chaqum
            parent = chaqum.identity().parent
            parent.send(chaqum.receive(timeout=600))
            parent.send(chaqum.receive_text(timeout=600).upper())
            obj = chaqum.receive_json(timeout=600)
            obj["seen by"] = chaqum.identity().id
            parent.send_json(obj)
            """));
        tree.Script("init", Python("""
            import chaqum
            try:
                chaqum.receive(timeout=0.1)
            except TimeoutError:
                print("nothing yet")
            child = chaqum.enqueue("child")
            raw = bytes(range(256))
            first = child.send(raw)
            print("delivered", first.wait_received(timeout=600))
            print("bytes", chaqum.receive(timeout=600) == raw)
            child.send("grüße\nzeile")
            print("text", chaqum.receive_text(timeout=600))
            chaqum.send_json(child, {"n": [1, None, True], "s": "ü"})
            echoed = chaqum.receive_json(timeout=600)
            print("json", echoed["n"], echoed["s"], echoed["seen by"] == child.id)
            print("child", child.wait())
            try:
                child.send(b"too late")
            except chaqum.ChaqumError as e:
                print("refused")
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[]
        {
            "nothing yet", "delivered True", "bytes True", "text GRÜSSE", "ZEILE",
            "json [1, None, True] ü True", "child exit 0", "refused",
        }), d.Log);
    }

    [Test]
    public void Threads_share_the_connection_and_errors_leave_it_usable()
    {
        using var tree = Tree();
        tree.Script("init", Python("""
            import threading
            import chaqum
            wrong = []

            def work(n):
                for i in range(5):
                    code = n * 10 + i
                    status = chaqum.enqueue("exiter", code).wait()
                    if status.exit_code != code:
                        wrong.append((code, status))
                    try:
                        chaqum.enqueue("nosuch-%d" % code)
                        wrong.append((code, "no error"))
                    except chaqum.ChaqumError as e:
                        if e.reason != "enqueue: no such script: 'nosuch-%d'" % code:
                            wrong.append((code, e.reason))

            threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            print("threads", wrong or "ok")
            print("still talking", chaqum.wait() == {})
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "threads ok", "still talking True" }), d.Log);
    }

    [Test]
    public void Log_lines_carry_their_level_and_the_identity_is_the_jobs()
    {
        using var tree = Tree();
        tree.Script("child", Python("""
            import chaqum
            me = chaqum.identity()
            print(me.id.split("/")[0], me.parent, me.group, me.slot, me.attempt, me.tree == __import__("os").getcwd())
            """));
        tree.Script("init", Python("""
            import chaqum
            chaqum.log.critical("python", "critical", 1)
            chaqum.log.error("python error\nsecond line")
            chaqum.log.warning("python warning")
            chaqum.log.info("python info", sep="")
            chaqum.log.debug("python", "debug", sep="-")
            me = chaqum.identity()
            print("me", me.id, me.parent, me.attempt)
            chaqum.enqueue("child", group="g", max_procs=3).wait()
            """));
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-v" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        foreach (var pattern in new[]
                 {
                     @"FTL init\[err\] python critical 1$", @"ERR init\[err\] python error$", @"ERR init\[err\] second line$",
                     @"WRN init\[err\] python warning$", @"INF init\[err\] python info$", @"DBG init\[err\] python-debug$",
                 })
            Assert.That(d.HasLine(pattern), Is.True, $"/{pattern}/ in\n{d.Log}");
        Assert.That(d.Log, Does.Not.Contain("\u001f"));
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "me init None 1" }), d.Log);
        Assert.That(d.Output(@"child/\d+"), Is.EqualTo(new[] { "child init g 0 1 True" }), d.Log);
    }

    // --- chaqum.lib: the original chaqum's API, in trees started with -e entry ---

    [Test]
    public void Original_api_groups_waits_kills_and_logs()
    {
        using var tree = Tree();
        Directory.CreateDirectory(tree.PathOf("running"));
        tree.Script("worker", Python("""
            import os, time
            from chaqum.lib import *
            mark = os.path.join("running", os.environ["CHAQUM_IDENT"].replace("/", "_"))
            os.mkdir(mark)
            with open("concurrency", "a") as f:
                f.write("%d\n" % len(os.listdir("running")))
            time.sleep(0.2)
            os.rmdir(mark)
            """));
        tree.Script("entry", Python("""
            import os
            from chaqum.lib import *

            log.info("entry", "starting")
            log.error("entry", "error", sep=":")
            workers = [enqueue("worker", i, group="pool", max_jobs=2) for i in range(6)]
            for job, status in waitjobs(*workers, timeout=600):
                print("worker", status.timeout, status.done, status.exitcode)

            sleeper = enqueue("sleeper")
            print("wait", sleeper.wait(timeout=0.2))
            print("kill", sleeper.kill())
            print("again", sleeper.wait())
            print("waitjobs", waitjobs(sleeper))
            exiter = enqueue("exiter", 4, forget=True)
            print("killjobs", [status and status.exitcode for _, status in killjobs(exiter, timeout=10)])
            try:
                enqueue("nosuch")
            except Exception as e:
                print("refused", e)
            print("parent", parent)
            print("no flush needed")
            os._exit(0)
            """));
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-e", "entry" });
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0));
        var output = d.Output("entry");
        Assert.That(output.Take(6), Has.All.EqualTo("worker False True 0"), d.Log);
        Assert.That(output.Skip(6).Take(3), Is.EqualTo(new[]
        {
            "wait job_status(timeout=True, done=None, exitcode=None)",
            "kill job_status(timeout=False, done=True, exitcode=-15)",
            "again job_status(timeout=False, done=True, exitcode=None)",
        }), d.Log);
        Assert.That(output[9], Does.Match(@"^waitjobs \[\(job\(ident='sleeper/\d+'\), None\)\]$"));
        Assert.That(output[10], Does.Match(@"^killjobs \[(4|-15|None)\]$"), "whatever state the exiter was in");
        Assert.That(output.Skip(11), Is.EqualTo(new[] { "refused enqueue: no such script: 'nosuch'", "parent None", "no flush needed" }), d.Log);
        Assert.That(tree.Read("concurrency").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).Max(), Is.LessThanOrEqualTo(2));
        Assert.That(d.HasLine(@"INF entry\[err\] entry starting$"), Is.True, d.Log);
        Assert.That(d.HasLine(@"ERR entry\[err\] entry:error$"), Is.True, d.Log);
    }

    [Test]
    public void Original_api_messages_between_entry_and_child()
    {
        using var tree = Tree();
        tree.Script("recv", Python("""
            from chaqum.lib import *
            obj = recvjson(timeout=600)
            parent.sendjson({"got": obj, "parent": parent.ident})
            parent.sendmsg(recvmsg(timeout=600))
            """));
        tree.Script("entry", Python("""
            from chaqum.lib import *
            print("timeout", recvmsg(timeout=0.1), recvjson(timeout=0))
            job = enqueue("recv", forget=True)
            msg = job.sendjson({"hello": "wörld", "newline": "\n"})
            print("waitrecv", msg.waitrecv(timeout=600))
            print("echo", recvjson(timeout=600))
            raw = job.sendmsg(b"\x00\xff\n")
            print("delivered", [(type(m).__name__, m == raw, ok) for m, ok in waitrecv(raw, timeout=600)])
            print("raw", recvmsg(timeout=600))
            """));
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-e", "entry" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("entry"), Is.EqualTo(new[]
        {
            "timeout None None",
            "waitrecv True",
            @"echo {'got': {'hello': 'wörld', 'newline': '\n'}, 'parent': 'entry'}",
            "delivered [('msg', True, True)]",
            @"raw b'\x00\xff\n'",
        }), d.Log);
    }

    [Test]
    public void Original_api_interval_and_cron_keep_firing()
    {
        using var tree = Tree();
        tree.Script("entry", Python("""
            from chaqum.lib import *
            interval("counter", "interval.txt", seconds=1)
            cron("counter", "cron.txt", second="*/1")
            print("registered")
            """));
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-e", "entry" });
        d.WaitForLine(@"entry: exited: exit 0");
        Assert.That(d.Output("entry"), Is.EqualTo(new[] { "registered" }), d.Log);
        Assert.That(d.HasLine(@"repeat:\d+: counter every 1s"), Is.True, d.Log);
        Assert.That(d.HasLine(@"repeat:\d+: counter on cron '\*/1 \* \* \* \* \*'"), Is.True, d.Log);
        // The original API has no unrepeat: the repeats run until the daemon is stopped.
        Poll.Until(() => Lines(tree, "interval.txt") >= 2 && Lines(tree, "cron.txt") >= 2, () => "two firings of each repeat. Log:\n" + d.Log);
        Assert.That(d.HasExited, Is.False);
        d.Signal(15);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    private static int Lines(TempTree tree, string name) =>
        tree.Exists(name) ? tree.Read(name).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length : 0;
}
