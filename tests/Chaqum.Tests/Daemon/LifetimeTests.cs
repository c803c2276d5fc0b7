namespace Chaqum.Tests.Daemon;

[TestFixture, CancelAfter(120_000)]
public class LifetimeTests
{
    [Test]
    public void Daemon_exits_when_the_entry_job_and_everything_it_enqueued_are_done()
    {
        using var tree = new TempTree();
        // late outlives init for sure: it ends only once init is gone (reaped by the daemon).
        tree.Script("late", "while kill -0 \"$(cat init.pid)\" 2>/dev/null; do sleep 0.05; done\necho late-done\n");
        tree.Script("init", Sh.Script("echo $$ > init.pid\ncmd 'enqueue -- late'\necho init-done"));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var log = d.Log;
        Assert.That(log.IndexOf("init-done"), Is.LessThan(log.IndexOf("late-done")));
        Assert.That(d.Lines[^1], Does.Contain("nothing left to do"));
    }

    [Test]
    public void Commands_a_job_wrote_before_exiting_still_run()
    {
        using var tree = new TempTree();
        tree.Script("child", "echo child-ran\n");
        // Fire and forget: never reads the replies.
        tree.Script("init", "printf 'enqueue -- child\\nenqueue -- child\\n' >&3\nexit 0\n");
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Log.Split("child-ran").Length - 1, Is.EqualTo(2));
    }

    [Test]
    public void A_stray_grandchild_holding_the_pipes_does_not_keep_the_job_running()
    {
        using var tree = new TempTree();
        tree.Script("leaver", "sleep 300 &\necho $! > stray.pid\nexit 5\n");
        tree.Script("init", Sh.Script("cmd 'enqueue -- leaver'\ncmd \"wait -- $(word 2)\""));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init")[1], Does.Match(@"^reply: S leaver/\d+ 5$"));
        int stray = int.Parse(tree.Read("stray.pid").Trim());
        Poll.Until(() => !ProcessCleanup.Alive(stray), "the left-over process to be killed at exit");
    }

    [Test]
    public void A_job_closing_fd_3_mid_line_or_flooding_affects_no_other_job()
    {
        using var tree = new TempTree();
        tree.Script("halfline", "printf 'enqueue -- gre' >&3\nexec 3>&-\nsleep 0.2\n");
        tree.Script("flood", "head -c 20000000 /dev/zero | tr '\\0' 'y' | fold -w 100\n");
        tree.Script("deaf", "i=0; while [ $i -lt 20000 ]; do echo 'wait --'; i=$((i+1)); done >&3\necho deaf-done\n");
        tree.Script("garbage", "head -c 100000 /dev/urandom >&3\necho garbage-done\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- halfline'; a=$(word 2)
            cmd 'enqueue -- flood'; b=$(word 2)
            cmd 'enqueue -- deaf'; c=$(word 2)
            cmd 'enqueue -F -- garbage'
            i=0; while [ $i -lt 200 ]; do cmd 'wait --' >/dev/null; i=$((i+1)); done
            echo pings-done
            cmd "wait -- $a $b"
            cmd "killjobs -- $c"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0));
        var init = d.Output("init");
        Assert.That(init, Does.Contain("pings-done"));
        Assert.That(init, Has.Some.Match(@"^reply: S halfline/\d+ 0 flood/\d+ 0$"));
        Assert.That(d.Log, Does.Match(@"halfline/\d+: fd 3 closed in the middle of a command"));
        Assert.That(d.Output(@"flood/\d+").Count, Is.EqualTo(200000), "every line of the flood logged");
    }
}
