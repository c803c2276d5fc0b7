namespace Chaqum.Tests.Daemon;

[TestFixture, CancelAfter(120_000)]
public class KillTests
{
    [Test]
    public void Killjobs_kills_the_whole_process_group_including_grandchildren()
    {
        using var tree = new TempTree();
        tree.Script("worker", "sleep 300 &\necho $! > grandchild.pid\nsleep 300\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- worker'; w=$(word 2)
            while [ ! -s grandchild.pid ]; do sleep 0.05; done
            cmd "killjobs -- $w"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S worker/\d+ -15$"));
        int grandchild = int.Parse(tree.Read("grandchild.pid").Trim());
        Poll.Until(() => !ProcessCleanup.Alive(grandchild), "the grandchild to die");
    }

    [Test]
    public void Killjobs_escalates_to_KILL_after_the_grace_period()
    {
        using var tree = new TempTree();
        tree.Script("stubborn", "trap '' TERM\necho ready > ready\nwhile :; do sleep 0.1; done\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- stubborn'; s=$(word 2)
            while [ ! -e ready ]; do sleep 0.05; done
            cmd "killjobs -- $s"
            """));
        using var d = DaemonProcess.Start(tree); // --grace 2
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S stubborn/\d+ -9$"));
        Assert.That(d.Log, Does.Match(@"stubborn/\d+: still running 2s after SIGTERM; sending SIGKILL"));
    }

    [Test]
    public void Killjobs_with_timeout_answers_T_and_signal_option_is_honoured()
    {
        using var tree = new TempTree();
        tree.Script("stubborn", "trap 'echo got-usr1' USR1\ntrap '' TERM\necho ready > ready\nwhile :; do sleep 0.1; done\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- stubborn'; s=$(word 2)
            while [ ! -e ready ]; do sleep 0.05; done
            cmd "killjobs -s USR1 -t 0.3 -- $s"
            cmd "wait -- $s"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var init = d.Output("init");
        Assert.That(init[1], Does.Match(@"^reply: S stubborn/\d+ T$"));
        Assert.That(init[2], Does.Match(@"^reply: S stubborn/\d+ -9$"));
        Assert.That(d.Output(@"stubborn/\d+"), Does.Contain("got-usr1"));
    }

    [Test]
    public void Killing_a_job_that_has_not_started_cancels_it_with_N()
    {
        using var tree = new TempTree();
        tree.Script("slow", "sleep 30\n");
        tree.Script("after", "echo should-not-run\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- slow'; s=$(word 2)
            cmd "enqueue -a $s -- after"; a=$(word 2)
            cmd "killjobs -- $a $s"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init")[2], Does.Match(@"^reply: S after/\d+ N slow/\d+ -15$"));
        Assert.That(d.Log, Does.Not.Contain("should-not-run"));
    }

    [Test]
    public void Sigterm_stops_everything_and_no_process_survives()
    {
        using var tree = new TempTree();
        tree.Script("worker", "sleep 300 &\nsleep 300\n");
        tree.Script("stubborn", "trap '' TERM\nwhile :; do sleep 0.1; done\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- worker'
            cmd 'enqueue -- worker'
            cmd 'enqueue -- stubborn'
            echo started
            sleep 300
            """));
        using var d = DaemonProcess.Start(tree);
        d.WaitForLine(@"init\[out\] started");
        Poll.Until(() => ProcessCleanup.Living(tree.Root).Count >= 6, "jobs and grandchildren to run");
        d.Signal(15);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Log, Does.Contain("stopping"));
        Assert.That(ProcessCleanup.Living(tree.Root), Is.Empty, "no job process survives the daemon");
    }

    [Test]
    public void Second_sigterm_kills_at_once()
    {
        using var tree = new TempTree();
        tree.Script("init", "trap '' TERM\necho started\nwhile :; do sleep 0.1; done\n");
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "--grace", "60" });
        d.WaitForLine(@"init\[out\] started");
        d.Signal(15);
        d.WaitForLine("stopping");
        d.Signal(15);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(20)), Is.EqualTo(0));
        Assert.That(d.Log, Does.Contain("second stop request"));
    }

    [Test]
    public void Sigint_stops_like_sigterm()
    {
        using var tree = new TempTree();
        tree.Script("init", "echo started\nsleep 300\n");
        using var d = DaemonProcess.Start(tree);
        d.WaitForLine(@"init\[out\] started");
        d.Signal(2);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(ProcessCleanup.Living(tree.Root), Is.Empty);
    }
}
