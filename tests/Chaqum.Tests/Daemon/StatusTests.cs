namespace Chaqum.Tests.Daemon;

/// <summary>Every STATUS a wait can report: 0..255, -SIG, N and T.</summary>
[TestFixture, CancelAfter(120_000)]
public class StatusTests
{
    [Test]
    public void Exit_codes_signals_never_ran_and_still_running()
    {
        using var tree = new TempTree();
        tree.Script("exit", "exit \"$1\"\n");
        tree.Script("selfkill", "kill -USR1 $$\nsleep 5\n");
        tree.Script("sleeper", "sleep 30\n");
        tree.Script("broken", "#!/nonexistent/interpreter\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- exit 0'; a=$(word 2)
            cmd 'enqueue -- exit 255'; b=$(word 2)
            cmd 'enqueue -- exit 7'; c=$(word 2)
            cmd 'enqueue -- selfkill'; s=$(word 2)
            cmd 'enqueue -- broken'; n=$(word 2)
            cmd 'enqueue -- sleeper'; t=$(word 2)
            cmd "wait -- $a $b $c $s $n"
            cmd "wait -t 0.2 -- $t"
            cmd "killjobs -s KILL -- $t"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var replies = d.Output("init").Where(l => l.StartsWith("reply: ")).ToList();
        Assert.That(replies[6], Does.Match(@"^reply: S exit/\d+ 0 exit/\d+ 255 exit/\d+ 7 selfkill/\d+ -10 broken/\d+ N$"));
        Assert.That(replies[7], Does.Match(@"^reply: S sleeper/\d+ T$"));
        Assert.That(replies[8], Does.Match(@"^reply: S sleeper/\d+ -9$"));
        Assert.That(d.Log, Does.Match(@"broken/\d+: spawn failed: No such file or directory"));
        Assert.That(d.Log, Does.Not.Contain("spawn failed: spawn failed"), "the outcome is said once");
    }

    [Test]
    public void Wait_first_returns_when_one_is_done_and_lists_the_rest_as_T()
    {
        using var tree = new TempTree();
        tree.Script("quick", "exit 4\n");
        tree.Script("slow", "sleep 30\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- slow'; s=$(word 2)
            cmd 'enqueue -- quick'; q=$(word 2)
            cmd "wait -f -- $s $q"
            cmd "killjobs -- $s"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var replies = d.Output("init");
        Assert.That(replies[2], Does.Match(@"^reply: S slow/\d+ T quick/\d+ 4$"));
        Assert.That(replies[3], Does.Match(@"^reply: S slow/\d+ -15$"));
    }

    [Test]
    public void Results_are_consumed_by_a_wait_and_forgotten_with_F()
    {
        using var tree = new TempTree();
        tree.Script("job", "exit 3\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- job'; a=$(word 2)
            cmd 'enqueue -F -- job'; f=$(word 2)
            cmd "wait -- $a"
            cmd "wait -- $a"
            while :; do cmd "wait -t 0 -- $f" >/dev/null; [ "$REPLY" = S ] && break; echo "saw: $REPLY"; sleep 0.05; done
            echo "forgotten: $REPLY"
            cmd 'wait -- nosuch/1 another'
            cmd 'waitjobs -- '
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var replies = d.Output("init");
        Assert.That(replies[2], Does.Match(@"^reply: S job/\d+ 3$"));
        Assert.That(replies[3], Is.EqualTo("reply: S"), "a result is reported once");
        Assert.That(replies.Where(r => r.StartsWith("saw: ")), Has.All.Match(@"^saw: S job/\d+ T$"), "a forgotten job's status is never kept");
        Assert.That(replies, Does.Contain("forgotten: S"), "a forgotten job is unknown once ended");
        Assert.That(replies[^2], Is.EqualTo("reply: S"), "unknown ids are left out");
        Assert.That(replies[^1], Is.EqualTo("reply: S"), "wait with no ids is a ping");
        Assert.That(d.Log, Does.Contain("unknown job id 'nosuch/1' left out"));
    }

    [Test]
    public void Several_waiters_all_see_the_status()
    {
        using var tree = new TempTree();
        tree.Script("job", "sleep 0.5; exit 9\n");
        tree.Script("watcher", Sh.Script("cmd \"wait -- $1\""));
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- job'; j=$(word 2)
            cmd "enqueue -- watcher $j"; w=$(word 2)
            cmd "wait -- $j $w"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output(@"watcher/\d+"), Has.Some.Match(@"^reply: S job/\d+ 9$"));
        Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S job/\d+ 9 watcher/\d+ 0$"));
    }

    [Test]
    public void Python_jobs_speak_the_protocol_too()
    {
        using var tree = new TempTree();
        tree.Script("child", "#!/usr/bin/env python3\nimport sys\nsys.exit(int(sys.argv[1]))\n");
        tree.Script("init", """
            #!/usr/bin/env python3
            import os
            cmd = os.fdopen(3, "w", buffering=1)
            rep = os.fdopen(4, "r")
            def ask(line):
                cmd.write(line + "\n")
                return rep.readline().rstrip("\n")
            job = ask("enqueue -- child 42").split()[1]
            print("wait:", ask("wait -- " + job), flush=True)
            print("quoted:", ask("enqueue -- 'child' '0'").split()[0], flush=True)
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Has.Some.Match(@"^wait: S child/\d+ 42$"));
        Assert.That(d.Output("init"), Has.Some.EqualTo("quoted: S"));
    }

    [Test]
    public void Job_ids_are_never_reused_across_restarts()
    {
        using var tree = new TempTree();
        tree.Script("job", "exit 0\n");
        tree.Script("init", Sh.Script("cmd 'enqueue -- job'"));
        int First()
        {
            using var d = DaemonProcess.Start(tree);
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
            var reply = d.Output("init").Single();
            return int.Parse(reply.Split('/')[1]);
        }
        int a = First(), b = First();
        // The entry job takes a number too (it is just called init): the second run's init
        // is a + 1 and its job a + 2. An orderly stop keeps the exact next number; only a
        // crash may skip some (the rest of a reserved block).
        Assert.That(b, Is.EqualTo(a + 2), "ids go on without a gap after an orderly stop");
    }
}
