using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Chaqum.Tests.Daemon;

namespace Chaqum.Tests.Hardening;

/// <summary>
/// Load: many jobs issuing many commands, 100 000 queued jobs, a job with 10 000
/// children, a flood of output, a job that never reads its replies, a storm of exits.
/// Each test checks that the daemon keeps answering (a control-socket hello, bounded by 30
/// s as a hang detector), that memory and descriptors stay bounded, that no zombie is left
/// and that it exits cleanly. Sizes are small enough for the suite; HARDENING_SCALE (and
/// HARDENING_JOBS / HARDENING_COMMANDS) make them larger for the runs in
/// docs/reliability.md. The figures are printed as "FIGURES ..." lines.
/// </summary>
[TestFixture, CancelAfter(600_000), Heavy]
public class LoadTests
{
    private static int Env(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int v) ? v : fallback;

    /// <summary>The daemon's resident memory must stay below this (it is about 100 MiB
    /// idle): growth without bound would cross it quickly.</summary>
    private const long RssLimitKiB = 1024 * 1024;

    private static void AssertQuietEnd(HardDaemon d, Watch watch, string what)
    {
        var report = watch.Finish(what);
        Assert.That(watch.PeakRssKiB, Is.LessThan(RssLimitKiB), report);
        Assert.That(d.CountLines("internal error"), Is.EqualTo(0), "no internal error was logged");
        Assert.That(d.CountLines("event loop failed"), Is.EqualTo(0));
    }

    private static long OpenFileLimit()
    {
        var line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files"));
        var soft = line["Max open files".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return soft == "unlimited" ? int.MaxValue : long.Parse(soft);
    }

    private static void AssertNoZombies(HardDaemon d)
    {
        // Exits are reaped as SIGCHLD arrives; a zombie that stays is a leak.
        Poll.Until(() => d.ZombieChildren().Count == 0, () => $"zombies to be reaped: {string.Join(' ', d.ZombieChildren())}",
            TimeSpan.FromSeconds(30));
    }

    [Test]
    public void Many_jobs_each_issuing_many_commands()
    {
        int jobs = Env("HARDENING_JOBS", NativeJob.Scaled(100));
        int commands = Env("HARDENING_COMMANDS", NativeJob.Scaled(500));
        using var tree = new TempTree();
        var job = NativeJob.Install(tree);
        tree.Script("init", Sh.Script($$"""
            ids=''
            i=0; while [ $i -lt {{jobs}} ]; do cmd "enqueue -- {{job}} pinger {{commands / 5}}" >/dev/null; ids="$ids $(word 2)"; i=$((i+1)); done
            echo all-enqueued
            cmd "wait -t 3600 -- $ids" >/dev/null
            echo "$REPLY" | tr ' ' '\n' | grep -c '^0$' | sed 's/^/succeeded: /'
            """));
        using var d = HardDaemon.Start(tree);
        using var watch = new Watch(d);
        var sw = Stopwatch.StartNew();
        Assert.That(d.WaitForExit(TimeSpan.FromMinutes(9)), Is.EqualTo(0));
        var elapsed = sw.Elapsed.TotalSeconds;
        Assert.That(d.Output("init"), Does.Contain($"succeeded: {jobs}"), d.Tail(30));
        AssertQuietEnd(d, watch, $"{jobs} jobs x {commands} commands ({(long)jobs * commands} commands) in {elapsed:0.0} s");
    }

    [Test]
    public void A_hundred_thousand_queued_jobs()
    {
        int count = NativeJob.Scaled(100_000);
        using var tree = new TempTree();
        var job = NativeJob.Install(tree);
        tree.Script("ok", "exit 0\n");
        tree.Script("init", Sh.Script($$"""
            cmd 'group -m 1 -- q'
            cmd 'enqueue -g q -- {{job}} pause'; blocker=$(word 2)
            cmd 'enqueue -- {{job}} killer {{count}} q ok gate'; killer=$(word 2)
            cmd "wait -t 3600 -- $killer"
            cmd "killjobs -- $blocker"
            """));
        using var d = HardDaemon.Start(tree);
        using var watch = new Watch(d);
        d.WaitForLine($@"\[out\] enqueued {count} in", TimeSpan.FromMinutes(5));
        long rssQueued = d.RssKiB();
        var hello = d.Hello();
        var ps = Stopwatch.StartNew();
        var psRun = Task.Run(() => Chaqum.Tests.Control.Ctl.Exec(new[] { "--socket", d.SocketPath, "ps", "--json" }, timeout: TimeSpan.FromMinutes(2)));
        // How long the loop is held while ps is answered (printed, not asserted).
        var duringPs = new List<double>();
        while (!psRun.IsCompleted) duringPs.Add(d.Hello().TotalMilliseconds);
        var psResult = psRun.Result;
        ps.Stop();
        Assert.That(psResult.Exit, Is.EqualTo(0), psResult.Err);
        Assert.That(JsonNode.Parse(psResult.Out)!.AsArray(), Has.Count.EqualTo(count + 3), "ps lists init, the killer, the blocker and every queued job");
        File.WriteAllText(tree.PathOf("gate"), "");
        d.WaitForLine($@"\[out\] killed {count} in", TimeSpan.FromMinutes(5));
        Assert.That(d.WaitForExit(TimeSpan.FromMinutes(3)), Is.EqualTo(0));
        var init = d.Output("init");
        Assert.That(init, Has.Some.Match(@"^reply: S bin/loadjob/\d+ 0$"), "the enqueuer got every reply right");
        Assert.That(init, Has.Some.Match(@"^reply: S bin/loadjob/\d+ -15$"));
        Assert.That(Regex.Count(d.Log, @"cancelled before start \(killjobs\)"), Is.EqualTo(count));
        AssertQuietEnd(d, watch, $"{count} queued jobs: {d.Output(@"bin/loadjob/\d+").FirstOrDefault()}; RSS with all queued " +
            $"{rssQueued / 1024} MiB; hello {hello.TotalMilliseconds:0.0} ms; chaqumctl ps --json {ps.Elapsed.TotalSeconds:0.00} s " +
            $"({psResult.Out.Length / 1024} KiB; {duringPs.Count} hellos meanwhile, max {duringPs.DefaultIfEmpty().Max():0.0} ms)");
    }

    [TestCase("wait", 10_000)]
    [TestCase("exit", 2_000)]
    [TestCase("setsid", 2_000)]
    public void A_job_with_thousands_of_children(string mode, int children)
    {
        // wait: the job and its children are killed together (killjobs on the group), and
        // the children, orphaned, are reaped by the daemon as subreaper. exit: the job
        // leaves them behind in its group, killed when the daemon exits. setsid: they left
        // the group (double-forked daemons), killed by the daemon as their subreaper.
        children = NativeJob.Scaled(children);
        using var tree = new TempTree();
        var job = NativeJob.Install(tree);
        tree.Script("init", Sh.Script($$"""
            cmd 'enqueue -- {{job}} forker {{children}} {{mode}}'; f=$(word 2)
            while [ ! -e gate ]; do sleep 0.05; done
            cmd "killjobs -t 60 -- $f"
            """));
        using var d = HardDaemon.Start(tree);
        using var watch = new Watch(d);
        d.WaitForLine($@"\[out\] forked {children}", TimeSpan.FromMinutes(3));
        var hello = d.Hello();
        File.WriteAllText(tree.PathOf("gate"), "");
        var sw = Stopwatch.StartNew();
        Assert.That(d.WaitForExit(TimeSpan.FromMinutes(3)), Is.EqualTo(0));
        Poll.Until(() => ProcessCleanup.Living(tree.Root).Count == 0,
            () => $"{ProcessCleanup.Living(tree.Root).Count} processes of the tree to be gone after the daemon's exit");
        AssertQuietEnd(d, watch, $"job with {children} children ({mode}): hello while they live {hello.TotalMilliseconds:0.0} ms, " +
            $"kill to daemon exit {sw.Elapsed.TotalSeconds:0.0} s");
    }

    [Test]
    public void A_flood_of_output_next_to_ordinary_work()
    {
        double seconds = 3 * Math.Max(1, NativeJob.Scaled(1));
        using var tree = new TempTree();
        var job = NativeJob.Install(tree);
        tree.Script("init", Sh.Script($$"""
            cmd 'enqueue -- {{job}} flood {{seconds}} flood1.txt'; a=$(word 2)
            cmd 'enqueue -- {{job}} flood {{seconds}} flood2.txt'; b=$(word 2)
            cmd 'enqueue -- {{job}} pinger 2000'; p=$(word 2)
            cmd "wait -t 600 -- $a $b $p"
            echo "$REPLY" > replies.txt
            """));
        using var d = HardDaemon.Start(tree);
        using var watch = new Watch(d);
        Assert.That(d.WaitForExit(TimeSpan.FromMinutes(5)), Is.EqualTo(0));
        Assert.That(tree.Read("replies.txt").Trim(), Does.Match(@"^S \S+ 0 \S+ 0 \S+ 0$"));
        double rate = 0;
        foreach (var f in new[] { "flood1.txt", "flood2.txt" })
        {
            var parts = tree.Read(f).Split(' ');
            rate += double.Parse(parts[0]) / double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        // The floods' lines went into the log (which is what limited their rate).
        long logged = d.CountLines("[out] aaaa");
        Assert.That(logged, Is.GreaterThan(0));
        AssertQuietEnd(d, watch, $"two floods for {seconds} s: {rate / 1e6:0.0} MB/s absorbed (logged and kept), pinger ok");
    }

    [Test]
    public void A_job_that_never_reads_its_replies()
    {
        using var tree = new TempTree();
        var job = NativeJob.Install(tree);
        tree.Script("init", Sh.Script($$"""
            cmd 'enqueue -- {{job}} deaf'; deaf=$(word 2)
            cmd 'enqueue -- {{job}} pinger 1000'; p=$(word 2)
            cmd "wait -t 600 -- $p"
            while [ ! -e gate ]; do sleep 0.05; done
            cmd "killjobs -- $deaf"
            """));
        using var d = HardDaemon.Start(tree);
        using var watch = new Watch(d);
        d.WaitForLine(@"init\[out\] reply: S bin/loadjob/\d+ 0$", TimeSpan.FromMinutes(3));
        // The deaf job fills both pipes; the daemon holds one pending reply and reads no
        // more from it. Its memory must not grow while the job keeps trying: measured from
        // now until the job is seen blocked in its write (it never sleeps otherwise), that
        // is until the daemon has stopped taking its commands.
        long before = d.RssKiB();
        int deafPid = 0;
        Poll.Until(() => (deafPid = ProcessCleanup.Living(tree.Root).FirstOrDefault(IsDeaf)) != 0, "the deaf job's pid");
        Poll.Until(() => Enumerable.Range(0, 5).All(_ => { Thread.Sleep(20); return ProcState(deafPid) == 'S'; }),
            "the deaf job to block in its write, five looks in a row");
        long after = d.RssKiB();
        File.WriteAllText(tree.PathOf("gate"), "");
        Assert.That(d.WaitForExit(TimeSpan.FromMinutes(1)), Is.EqualTo(0));
        Assert.That(d.Output("init").Last(), Does.Match(@"^reply: S bin/loadjob/\d+ -15$"));
        Assert.That(after - before, Is.LessThan(16 * 1024), $"RSS grew from {before} to {after} KiB while the job was deaf");
        AssertQuietEnd(d, watch, $"deaf job: RSS {before / 1024} -> {after / 1024} MiB until it blocked, pinger done next to it");
    }

    private static bool IsDeaf(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").EndsWith("loadjob\0deaf\0"); }
        catch (IOException) { return false; }
    }

    /// <summary>The state letter of /proc/PID/stat (R running, S sleeping, ...).</summary>
    private static char ProcState(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }

    [Test]
    public void A_storm_of_jobs_exiting_at_once()
    {
        // A running job holds four descriptors and may open an output file: the daemon
        // runs at most about a fifth of its descriptor limit at once (the rest would wait).
        int count = Math.Min(NativeJob.Scaled(2000), (int)(OpenFileLimit() - 400) / 5);
        using var tree = new TempTree();
        var job = NativeJob.Install(tree);
        tree.Script("init", Sh.Script($$"""
            cmd 'enqueue -- {{job}} killer {{count}} storm "{{job}} pause" gate'; k=$(word 2)
            cmd "wait -t 600 -- $k"
            """));
        using var d = HardDaemon.Start(tree);
        using var watch = new Watch(d);
        d.WaitForLine($@"\[out\] enqueued {count} in", TimeSpan.FromMinutes(3));
        Poll.Until(() => Regex.Count(d.Log, @"bin/loadjob/\d+: started") >= count + 1, "every job to have started",
            TimeSpan.FromMinutes(3));
        File.WriteAllText(tree.PathOf("gate"), "");
        var line = d.WaitForLine($@"\[out\] killed {count} in .*", TimeSpan.FromMinutes(3));
        AssertNoZombies(d);
        Assert.That(d.WaitForExit(TimeSpan.FromMinutes(1)), Is.EqualTo(0));
        Assert.That(Regex.Count(d.Log, @"killed: signal SIGTERM"), Is.GreaterThanOrEqualTo(count));
        AssertQuietEnd(d, watch, $"{count} jobs killed and exiting at once: {line}");
    }
}
