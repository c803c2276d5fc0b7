using System.Text.RegularExpressions;

namespace Chaqum.Tests.Daemon;

[TestFixture, CancelAfter(120_000)]
public class OutputTests
{
    [Test]
    public void Each_line_is_one_event_with_job_stream_and_level()
    {
        using var tree = new TempTree();
        tree.Script("init", """
            echo plain out
            echo plain err >&2
            printf 'C\037critical\nE\037error\nW\037warning\nI\037info\nD\037debug\n' >&2
            printf 'E\037error on stdout\n'
            printf 'X\037not a level\n'
            printf 'no newline at the end'
            """);
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-v" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var log = d.Lines;
        Assert.That(log, Has.Some.Match(@"^\d\d:\d\d:\d\d\.\d{3} INF init\[out\] plain out$"));
        Assert.That(log, Has.Some.Match(@" WRN init\[err\] plain err$"));
        Assert.That(log, Has.Some.Match(@" FTL init\[err\] critical$"));
        Assert.That(log, Has.Some.Match(@" ERR init\[err\] error$"));
        Assert.That(log, Has.Some.Match(@" WRN init\[err\] warning$"));
        Assert.That(log, Has.Some.Match(@" INF init\[err\] info$"));
        Assert.That(log, Has.Some.Match(@" DBG init\[err\] debug$"));
        Assert.That(log, Has.Some.Match(@" ERR init\[out\] error on stdout$"));
        Assert.That(log, Has.Some.Match(@" INF init\[out\] X\\x1fnot a level$"));
        Assert.That(log, Has.Some.Match(@" INF init\[out\] no newline at the end$"));
    }

    [Test, CancelAfter(300_000)]
    public void A_flood_is_logged_whole_and_in_order_between_the_jobs_start_and_exit()
    {
        // 200 000 lines make about 9 MB of log: many buffers handed to the log writer
        // thread while the loop fills the next (see StderrBuffer), none may be lost or
        // overtaken, by each other or by the daemon's own events.
        const int count = 200_000;
        using var tree = new TempTree();
        tree.Script("flood", $"seq 1 {count}\n");
        tree.Script("init", Sh.Script("cmd 'enqueue -- flood'; cmd \"wait -- $(word 2)\"; echo \"after: $REPLY\""));
        using var d = DaemonProcess.Start(tree);
        // 9 MB through the daemon and the test's reader: minutes on a busy machine.
        Assert.That(d.WaitForExit(TimeSpan.FromMinutes(4)), Is.EqualTo(0));
        var lines = d.Lines.ToList();
        int started = lines.FindIndex(l => Regex.IsMatch(l, @" flood/\d+: started"));
        int exited = lines.FindIndex(l => Regex.IsMatch(l, @" flood/\d+: exited: exit 0"));
        int after = lines.FindIndex(l => Regex.IsMatch(l, @" init\[out\] after: S flood/\d+ 0$"));
        var numbered = lines.Select((l, i) => (Match: Regex.Match(l, @" flood/\d+\[out\] (\d+)$"), Index: i))
            .Where(x => x.Match.Success).ToList();
        Assert.That(numbered.Select(x => int.Parse(x.Match.Groups[1].Value)), Is.EqualTo(Enumerable.Range(1, count)), "every line, once, in order");
        Assert.That(started, Is.GreaterThanOrEqualTo(0).And.LessThan(numbered[0].Index));
        Assert.That(exited, Is.GreaterThan(numbered[^1].Index), "the exit is logged after the job's last line");
        Assert.That(after, Is.GreaterThan(exited));
    }

    [Test]
    public void Long_lines_and_invalid_utf8_are_logged_without_loss()
    {
        using var tree = new TempTree();
        tree.Script("init", """
            head -c 40000 /dev/zero | tr '\0' 'z'; echo
            printf 'bad \377\376 bytes and \303\251 ok\n'
            echo after
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var output = d.Output("init");
        var zs = output.TakeWhile(l => l.StartsWith('z')).ToList();
        Assert.That(zs.Count, Is.GreaterThan(1), "an over-long line is split");
        Assert.That(string.Concat(zs).Length, Is.EqualTo(40000), "nothing lost");
        Assert.That(output, Does.Contain(@"bad \xff\xfe bytes and é ok"));
        Assert.That(output[^1], Is.EqualTo("after"));
    }

    [Test]
    public void Daemon_events_are_logged_with_pid_status_and_runtime()
    {
        using var tree = new TempTree();
        tree.Script("init", "exit 3\n");
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Log, Does.Match(@"INF init: started, pid \d+"));
        Assert.That(d.Log, Does.Match(@"WRN init: failed: exit 3 after [\d.]+s"));
    }
}
