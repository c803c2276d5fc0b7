using System.Globalization;
using Chaqum.Tests.Control;

namespace Chaqum.Tests.Daemon;

/// <summary>Groups, barriers, priorities, dependencies, timeouts, retries, keys and repeats,
/// with the real daemon, observed from the jobs themselves.</summary>
[TestFixture, CancelAfter(180_000)]
public class SchedulingTests
{
    [Test]
    public void A_capped_group_never_exceeds_its_limit_and_slots_are_unique()
    {
        using var tree = new TempTree();
        Directory.CreateDirectory(tree.PathOf("running"));
        Directory.CreateDirectory(tree.PathOf("slots"));
        tree.Script("worker", """
            mkdir "running/$(echo $CHAQUM_IDENT | tr / _)"
            ls running | wc -l >> concurrency
            mkdir "slots/$CHAQUM_SLOT" 2>/dev/null || echo "duplicate slot $CHAQUM_SLOT" >> violations
            [ "$CHAQUM_GROUP" = pool ] || echo "group is '$CHAQUM_GROUP'" >> violations
            [ "$CHAQUM_SLOT" -ge 0 ] && [ "$CHAQUM_SLOT" -lt 3 ] || echo "slot $CHAQUM_SLOT out of range" >> violations
            # The first three wait for each other: the cap is reached whatever the machine's pace.
            while [ ! -e full ] && [ "$(ls running | wc -l)" -lt 3 ]; do sleep 0.05; done
            touch full
            sleep 0.1
            rmdir "slots/$CHAQUM_SLOT"
            rmdir "running/$(echo $CHAQUM_IDENT | tr / _)"
            """);
        tree.Script("init", Sh.Script("""
            ids=
            for i in 1 2 3 4 5 6 7 8 9 10 11 12; do cmd 'enqueue -g pool -m 3 -- worker'; ids="$ids $(word 2)"; done
            cmd "wait --$ids"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0));
        var counts = tree.Read("concurrency").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
        Assert.That(counts, Has.Count.EqualTo(12));
        Assert.That(counts.Max(), Is.LessThanOrEqualTo(3));
        Assert.That(tree.Exists("full"), Is.True, "the cap is used, not just respected");
        Assert.That(tree.Exists("violations") ? tree.Read("violations") : "", Is.Empty);
    }

    [Test]
    public void A_held_barrier_is_released_by_a_group_update()
    {
        using var tree = new TempTree();
        tree.Script("job", "echo ran\n");
        tree.Script("init", Sh.Script("""
            cmd 'group -M 1000T -- g'
            cmd 'enqueue -g g -- job'; j=$(word 2)
            cmd "wait -t 1.5 -- $j"
            cmd 'group -M 0 -- g'
            cmd "wait -t 30 -- $j"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var init = d.Output("init");
        Assert.That(init[0], Is.EqualTo("reply: S"));
        Assert.That(init[2], Does.Match(@"^reply: S job/\d+ T$"));
        Assert.That(init[4], Does.Match(@"^reply: S job/\d+ 0$"));
    }

    [Test]
    public void Barriers_that_hold_let_jobs_run_at_the_sampling_pace()
    {
        using var tree = new TempTree();
        tree.Script("job", "exit 0\n");
        tree.Script("init", Sh.Script("""
            ids=
            # Barriers any busy machine passes (cpu<100% would hold on a saturated one).
            for i in 1 2 3; do cmd 'enqueue -g easy -M 1K -l 10000 -- job'; ids="$ids $(word 2)"; done
            cmd "wait --$ids"
            """));
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-v" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init")[^1], Does.Match(@"^reply: S job/\d+ 0 job/\d+ 0 job/\d+ 0$"));
    }

    [Test]
    public void Priorities_order_starts_within_a_group()
    {
        using var tree = new TempTree();
        tree.Script("blocker", "while [ ! -e all-queued ]; do sleep 0.05; done\n");
        tree.Script("rec", "printf '%s ' \"$1\" >> order\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -g p -m 1 -- blocker'; ids=$(word 2)
            cmd 'enqueue -g p -- rec low1'; ids="$ids $(word 2)"
            cmd 'enqueue -g p -p 5 -- rec high'; ids="$ids $(word 2)"
            cmd 'enqueue -g p -- rec low2'; ids="$ids $(word 2)"
            cmd 'enqueue -g p -p -3 -- rec last'; ids="$ids $(word 2)"
            cmd 'enqueue -g p -p 5 -- rec high2'; ids="$ids $(word 2)"
            touch all-queued
            cmd "wait --$ids"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(tree.Read("order").Trim(), Is.EqualTo("high high2 low1 low2 last"));
    }

    [Test]
    public void Dependencies_chain_and_a_failure_ends_dependents_with_N()
    {
        using var tree = new TempTree();
        tree.Script("ok", "sleep 0.2; echo ok-ran\n");
        tree.Script("fail", "exit 1\n");
        tree.Script("never", "echo never-ran\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- ok'; a=$(word 2)
            cmd "enqueue -a $a -- fail"; b=$(word 2)
            cmd "enqueue -a $b -- never"; c=$(word 2)
            cmd "enqueue -a $a -a $a -- ok"; e=$(word 2)
            cmd "wait -- $a $b $c $e"
            cmd 'enqueue -a nosuch/1 -- ok'
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var init = d.Output("init");
        Assert.That(init[4], Does.Match(@"^reply: S ok/\d+ 0 fail/\d+ 1 never/\d+ N ok/\d+ 0$"));
        Assert.That(init[5], Is.EqualTo("reply: E enqueue: unknown job id 'nosuch/1' for -a"));
        Assert.That(d.Log, Does.Not.Contain("never-ran"));
        Assert.That(d.Log, Does.Match(@"never/\d+: dependency failed: dependency fail/\d+ ended \(exit 1\)"));
    }

    [Test]
    public void Timeout_terminates_the_job_and_the_log_says_so()
    {
        using var tree = new TempTree();
        tree.Script("sleeper", "sleep 60\n");
        tree.Script("init", Sh.Script("cmd 'enqueue -t 0.5 -- sleeper'\ncmd \"wait -- $(word 2)\""));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init")[1], Does.Match(@"^reply: S sleeper/\d+ -15$"));
        Assert.That(d.Log, Does.Match(@"sleeper/\d+: timed out after 0.5s"));
        Assert.That(d.Log, Does.Match(@"sleeper/\d+: timed out: signal SIGTERM"));
    }

    [Test]
    public void Retries_count_attempts_and_wait_returns_the_last_status()
    {
        using var tree = new TempTree();
        tree.Script("flaky", "echo \"attempt $CHAQUM_ATTEMPT\"\n[ \"$CHAQUM_ATTEMPT\" -ge 3 ] || exit 4\n");
        tree.Script("hopeless", "exit 9\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -r 2 -- flaky'; a=$(word 2)
            cmd 'enqueue -r 1 -- hopeless'; b=$(word 2)
            cmd "wait -- $a $b"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0));
        Assert.That(d.Output("init")[2], Does.Match(@"^reply: S flaky/\d+ 0 hopeless/\d+ 9$"));
        var flakyId = d.Output("init")[0].Split(' ')[2];
        Assert.That(d.Output(System.Text.RegularExpressions.Regex.Escape(flakyId)), Is.EqualTo(new[] { "attempt 1", "attempt 2", "attempt 3" }));
        Assert.That(d.Log, Does.Contain($"{flakyId}: attempt 1 ended with exit 4"));
        Assert.That(d.Log, Does.Match("retrying in 1s"));
        Assert.That(d.Log, Does.Match("retrying in 2s"));
    }

    [Test]
    public void A_key_answers_with_the_job_already_queued_or_running()
    {
        using var tree = new TempTree();
        tree.Script("convert", "while [ ! -e asked-twice ]; do sleep 0.05; done\n");
        tree.Script("init", Sh.Script("""
            cmd "enqueue -k 'inbox/a b.png' -- convert"; a=$(word 2)
            cmd "enqueue -k 'inbox/a b.png' -- convert"; b=$(word 2)
            touch asked-twice
            [ "$a" = "$b" ] && echo same
            cmd "wait -- $a"
            cmd "enqueue -k 'inbox/a b.png' -- convert"; c=$(word 2)
            [ "$a" != "$c" ] && echo new-after-end
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Does.Contain("same"));
        Assert.That(d.Output("init"), Does.Contain("new-after-end"));
    }

    [Test]
    public void Interval_repeat_fires_skips_overlap_and_unrepeat_lets_the_daemon_exit()
    {
        using var tree = new TempTree();
        // tick runs until released, so every later firing of it must be skipped; the test
        // lets init unrepeat once a skip is logged and fast has fired four times.
        tree.Script("tick", "echo tick >> ticks\nwhile [ ! -e release ]; do sleep 0.05; done\n");
        tree.Script("fast", "echo fast >> fasts\n");
        tree.Script("init", Sh.Script("""
            cmd 'repeat -i 0.3s -- tick'; r=$(word 2)
            cmd 'repeat -o -i 250ms -- fast'; f=$(word 2)
            while [ ! -e stop ]; do sleep 0.05; done
            cmd "unrepeat -- $r $f"
            cmd "unrepeat -- $r"
            touch release
            """));
        using var d = DaemonProcess.Start(tree);
        d.WaitForLine(@"repeat:\d+: firing skipped, tick/\d+ is still running");
        Poll.Until(() => tree.Exists("fasts") && tree.Read("fasts").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 4,
            "fast to fire four times");
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var init = d.Output("init");
        Assert.That(init[0], Does.Match(@"^reply: S repeat:\d+$"));
        Assert.That(init[2], Is.EqualTo("reply: S"));
        Assert.That(init[3], Does.Match(@"^reply: E unrepeat: unknown repeat id repeat:\d+$"));
        int ticks = tree.Read("ticks").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.That(ticks, Is.EqualTo(1), "overlapping firings are skipped");
    }

    [Test]
    public void Cron_repeat_with_seconds_fires_every_second()
    {
        using var tree = new TempTree();
        tree.Script("tock", "echo tock >> tocks\n");
        tree.Script("init", Sh.Script("""
            cmd "repeat -c '*/1 * * * * *' -- tock"; r=$(word 2)
            while [ "$(cat tocks 2>/dev/null | wc -l)" -lt 3 ]; do sleep 0.1; done
            cmd "unrepeat -- $r"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(30)), Is.EqualTo(0));
        Assert.That(d.Output(@"tock/\d+"), Is.Empty);
        Assert.That(d.Log, Does.Match(@"repeat:\d+: tock on cron '\*/1 \* \* \* \* \*'"));
    }

    /// <summary>repeat -z: the zone a cron repeat is read in, shown by the log and the control
    /// socket, and the daemon's own zone (TZ) as the default. (Firings in a zone: the
    /// conformance corpus's repeat scenario, in every client library.)</summary>
    [Test]
    public void A_cron_repeat_runs_in_its_zone_or_the_daemons_and_says_which()
    {
        using var tree = new TempTree();
        tree.Script("tick", "exit 0\n");
        tree.Script("init", Sh.Script("""
            cmd "repeat -c '0 7 * * *' -z Asia/Tokyo -- tick"; a=$(word 2)
            cmd "repeat -c '0 7 * * *' -- tick"; b=$(word 2)
            cmd 'repeat -i 1h -- tick'; c=$(word 2)
            touch registered
            while [ ! -e stop ]; do sleep 0.05; done
            cmd "unrepeat -- $a $b $c"
            """));
        // Kolkata: +05:30 all year, so 07:00 there is 01:30 UTC whatever the date.
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), new Dictionary<string, string?> { ["TZ"] = "Asia/Kolkata" });
        Poll.Until(() => tree.Exists("registered"), () => "init to register its repeats. Log:\n" + d.Log);

        var repeats = Ctl.Run(tree, "repeats", "--json").Json.AsArray();
        Assert.That(repeats.Select(r => r!["zone"]?.GetValue<string>()), Is.EqualTo(new[] { "Asia/Tokyo", "Asia/Kolkata", null }));
        var next = repeats.Take(2).Select(r => DateTimeOffset.Parse(r!["next_at"]!.GetValue<string>(), CultureInfo.InvariantCulture).UtcDateTime.TimeOfDay);
        Assert.That(next, Is.EqualTo(new[] { new TimeSpan(22, 0, 0), new TimeSpan(1, 30, 0) }), "07:00 in Tokyo (+09:00) and in Kolkata (+05:30)");
        Assert.That(Ctl.Run(tree, "repeats").Out, Does.Contain("Asia/Tokyo").And.Contain("Asia/Kolkata"));
        Assert.That(d.Log, Does.Match(@"repeat:\d+: tick on cron '0 7 \* \* \*' in Asia/Tokyo, next at"));
        Assert.That(d.Log, Does.Match(@"repeat:\d+: tick on cron '0 7 \* \* \*' in Asia/Kolkata, next at"));

        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0), "the daemon ends once init has removed its repeats");
        Assert.That(d.Output("init"), Has.None.StartsWith("reply: E"));
    }

    [Test]
    public void Repeat_firings_are_ordinary_jobs_without_a_parent()
    {
        using var tree = new TempTree();
        tree.Script("tick", "echo \"id=$CHAQUM_IDENT parent=${CHAQUM_PARENT-unset} group=$CHAQUM_GROUP slot=$CHAQUM_SLOT\"\ntouch ticked\n");
        tree.Script("init", Sh.Script("""
            cmd 'repeat -i 0.2 -g ticks -m 1 -- tick'; r=$(word 2)
            while [ ! -e ticked ]; do sleep 0.05; done
            cmd "unrepeat -- $r"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output(@"tick/\d+"), Has.Some.Match(@"^id=tick/\d+ parent=unset group=ticks slot=0$"));
    }

    [TestCase("enqueue -g g -m -1 -- job", "-m (max processes): '-1' is not a non-negative integer")]
    [TestCase("enqueue -g g -m x -- job", "-m (max processes): 'x' is not a non-negative integer")]
    [TestCase("enqueue -g g -c 150 -- job", "-c (max CPU): 150 is above 100%")]
    [TestCase("enqueue -g g -c abc -- job", "-c (max CPU): 'abc' is not a number")]
    [TestCase("enqueue -g g -M banana -- job", "-M (min memory): 'banana' is not a size")]
    [TestCase("enqueue -g g -M 5Q -- job", "-M (min memory): '5Q' has an unknown unit")]
    [TestCase("enqueue -g g -l -1 -- job", "-l (max load): '-1' is negative")]
    [TestCase("enqueue -g g -P 101 -- job", "-P (max CPU pressure): 101 is above 100%")]
    [TestCase("enqueue -t -1 -- job", "-t (timeout): '-1' is negative")]
    [TestCase("enqueue -r x -- job", "-r (retries): 'x' is not a non-negative integer")]
    [TestCase("enqueue -p x -- job", "-p (priority): 'x' is not an integer")]
    [TestCase("enqueue -k '' -- job", "-k (key): empty key")]
    [TestCase("repeat -- job", "give exactly one of -c CRON, -i INTERVAL and -w/-W DIR")]
    [TestCase("repeat -i 1s -c '* * * * *' -- job", "give exactly one of -c CRON, -i INTERVAL and -w/-W DIR")]
    [TestCase("repeat -i 0s -- job", "interval '0s' must be longer than zero")]
    [TestCase("repeat -i banana -- job", "bad interval 'banana'")]
    [TestCase("repeat -c '61 * * * *' -- job", "bad cron expression '61 * * * *'")]
    [TestCase("repeat -c '* * 31 2 *' -- job", "never fires")]
    [TestCase("repeat -c '0 0 * * 1,5L' -- job", "'5L' must stand alone in the weekday field")]
    [TestCase("repeat -c '* * * * *' -z Nowhere/Atlantis -- job", "unknown time zone 'Nowhere/Atlantis'")]
    [TestCase("repeat -c '* * * * *' -z Europe -- job", "unknown time zone 'Europe'")]
    [TestCase("repeat -i 1h -z Europe/Berlin -- job", "-z ZONE is the time zone of a cron schedule (-c CRON), not of an interval")]
    [TestCase("unrepeat -- repeat:99", "unknown repeat id repeat:99")]
    [TestCase("group -m 2", "expected exactly one GROUP operand")]
    [TestCase("group -c 200 -- g", "-c (max CPU): 200 is above 100%")]
    public void Bad_values_are_refused(string line, string reason)
    {
        using var tree = new TempTree();
        tree.Script("job", "exit 0\n");
        tree.Script("init", Sh.Script($"cmd '{line.Replace("'", "'\\''")}'\ncmd 'wait --'"));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var init = d.Output("init");
        Assert.That(init[0], Does.StartWith("reply: E ").And.Contain(reason));
        Assert.That(init[1], Is.EqualTo("reply: S"));
    }

    [Test]
    public void Cpu_share_as_percentage_or_fraction_and_sizes_with_units()
    {
        using var tree = new TempTree();
        tree.Script("job", "exit 0\n");
        tree.Script("init", Sh.Script("""
            cmd 'group -c 80 -M 512M -- a'
            cmd 'group -c 0.8 -M 2GiB -l 4 -P 50 -- b'
            cmd 'group -M 1048576 -- c'
            """));
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-v" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "reply: S", "reply: S", "reply: S" }));
        Assert.That(d.Log, Does.Contain("group a: max 0, barriers cpu<80%,mem>=512M"));
        Assert.That(d.Log, Does.Contain("group b: max 0, barriers cpu<80%,load<4,mem>=2G,pressure<50%"));
        Assert.That(d.Log, Does.Contain("group c: max 0, barriers mem>=1M"));
    }
}
