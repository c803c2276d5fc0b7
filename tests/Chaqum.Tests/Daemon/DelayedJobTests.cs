namespace Chaqum.Tests.Daemon;

/// <summary>enqueue -d / -A / -U with the real daemon, observed from the jobs: order and
/// state only (a delayed job never starts before its time, which is checked against the
/// jobs' own clock as a lower bound, never as a window).</summary>
[TestFixture, CancelAfter(180_000)]
public class DelayedJobTests
{
    [Test]
    public void A_delayed_job_starts_no_sooner_than_its_delay_and_after_a_job_enqueued_later()
    {
        using var tree = new TempTree();
        tree.Script("mark", "date +%s.%N > \"started.$1\"\necho \"$1\" >> order\n");
        tree.Script("init", Sh.Script("""
            date +%s.%N > before
            cmd 'enqueue -d 1 -- mark late'; late=$(word 2)
            cmd 'enqueue -- mark early'; early=$(word 2)
            cmd "wait -t 60 -- $late $early"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var init = d.Output("init");
        Assert.That(init[2], Does.Match(@"^reply: S mark/\d+ 0 mark/\d+ 0$"), d.Log);
        Assert.That(tree.Read("order").Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Member("late").And.Member("early"));
        double before = double.Parse(tree.Read("before"), System.Globalization.CultureInfo.InvariantCulture);
        double started = double.Parse(tree.Read("started.late"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(started - before, Is.GreaterThanOrEqualTo(1.0), "not before its due time");
        Assert.That(d.Log, Does.Match(@"mark/\d+: started"));
    }

    [Test]
    public void A_job_reschedules_itself_with_a_delay()
    {
        using var tree = new TempTree();
        tree.Script("tick", Sh.Script("""
            echo "$CHAQUM_IDENT" >> ticks
            [ "$(wc -l < ticks)" -lt 3 ] && cmd 'enqueue -d 0.2 -- tick'
            exit 0
            """));
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- tick'
            while [ ! -e ticks ] || [ "$(wc -l < ticks)" -lt 3 ]; do sleep 0.05; done
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var ticks = tree.Read("ticks").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(ticks, Has.Length.EqualTo(3));
        Assert.That(ticks, Is.Unique);
        Assert.That(d.Output(@"tick/\d+").Where(l => l.StartsWith("reply: S tick/")).ToList(), Has.Count.EqualTo(2));
    }

    [Test]
    public void An_urgent_job_goes_ahead_of_higher_priorities_in_its_group()
    {
        using var tree = new TempTree();
        tree.Script("blocker", "while [ ! -e go ]; do sleep 0.05; done\n");
        tree.Script("mark", "echo \"$1\" >> order\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -g g -m 1 -- blocker'; b=$(word 2)
            cmd 'enqueue -g g -p 10 -- mark high'; h=$(word 2)
            cmd 'enqueue -g g -U -- mark urgent'; u=$(word 2)
            cmd 'enqueue -g g -- mark plain'; p=$(word 2)
            touch go
            cmd "wait -t 60 -- $b $h $u $p"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(tree.Read("order").Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "urgent", "high", "plain" }));
    }

    [Test]
    public void Bad_delays_and_times_are_refused_and_the_next_line_works()
    {
        using var tree = new TempTree();
        tree.Script("mark", "exit 0\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -d soon -- mark'
            cmd 'enqueue -A 25:00 -- mark'
            cmd 'enqueue -d 1m -A 12:00 -- mark'
            cmd 'enqueue -d 0 -- mark'
            cmd 'enqueue -A -- mark'
            cmd 'enqueue -g - -- mark'
            cmd 'enqueue -d 0.1 -HUR -- mark'; j=$(word 2)
            cmd "killjobs -- $j"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var init = d.Output("init");
        Assert.That(init[0], Does.StartWith("reply: E enqueue: -d (delay): bad interval 'soon'"));
        Assert.That(init[1], Does.StartWith("reply: E enqueue: -A: '25:00' is not a time"));
        Assert.That(init[2], Is.EqualTo("reply: E enqueue: -d (delay) and -A (at a time) exclude each other"));
        Assert.That(init[3], Does.StartWith("reply: E enqueue: -d (delay): interval '0' must be longer than zero"));
        Assert.That(init[4], Does.StartWith("reply: E enqueue: -A: '--' is not a time").Or.StartWith("reply: E enqueue: missing SCRIPT"));
        Assert.That(init[5], Does.Contain("ungrouped"));
        Assert.That(init[6], Does.Match(@"^reply: S mark/\d+$"));
        Assert.That(init[7], Does.Match(@"^reply: S mark/\d+ N$"), "held, then killed before it started");
        Assert.That(d.Log, Does.Contain("-d (delay): bad interval 'soon'"), "refusals are logged");
    }
}
