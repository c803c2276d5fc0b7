using Chaqum.Scheduling.Repeats;
using Chaqum.Tests.Daemon;

namespace Chaqum.Tests.Hardening;

/// <summary>What the fuzzer found, pinned down: each of these once answered "internal
/// error", split a reply (and a log line) in two, or left a connection open for ever.</summary>
[TestFixture, CancelAfter(120_000)]
public class FuzzFindsTests
{
    [TestCase("1000000000000000000000000000000000000000000000000000")]
    [TestCase("99999999999w")]
    [TestCase("321474836480")]   // 10 000 years: the next firing's date was beyond year 9999
    [TestCase("5300000w")]
    public void An_interval_too_long_for_a_TimeSpan_is_refused(string text)
    {
        var e = Assert.Throws<FormatException>(() => Interval.Parse(text));
        Assert.That(e!.Message, Does.Contain("too long"));
    }

    [TestCase("*/99999999999 * * * *")]
    [TestCase("99999999999-1 * * * *")]
    public void A_cron_number_beyond_Int32_is_refused(string text)
    {
        var e = Assert.Throws<FormatException>(() => CronExpression.Parse(text));
        Assert.That(e!.Message, Does.StartWith("bad cron expression"));
    }

    [Test]
    public void A_word_holding_a_newline_never_splits_a_reply_or_a_log_line()
    {
        using var tree = new TempTree();
        tree.Script("init", Sh.Script("""
            cmd "\$'wa\\nit' --"
            cmd "wait \$'-\\n' --"
            cmd "wait -- \$'x\\n12:00:00.000 ERR forged'"
            cmd "repeat -i \$'1\\nx' -- init"
            cmd 'wait --'
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[]
        {
            "reply: E unknown command 'wa?it'",
            "reply: E wait: unknown option -?",
            "reply: S",
            "reply: E repeat: bad interval '1 x': number without unit (s, m, h, d, w)",
            "reply: S",
        }));
        Assert.That(d.Lines, Has.None.Match(@"^12:00:00\.000 ERR forged"), "a job cannot forge a line of the daemon's log");
        Assert.That(d.Lines, Has.All.Match(@"^(\d\d:\d\d:\d\d\.\d{3} [A-Z]{3} |\[stdout\] )"), "every log line is one event");
    }

    [Test]
    public void Every_waiting_command_an_exited_job_left_behind_is_abandoned()
    {
        // The job writes two commands that can only be answered later, and a third, then
        // exits without reading: the first used to be abandoned, the second held its
        // connection (two descriptors) for the daemon's whole life.
        using var tree = new TempTree();
        tree.Script("leaver", "printf 'recvmsg\\nwait -t 3600 -- init\\nwait --\\n' >&3\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- leaver'; l=$(word 2)
            cmd "wait -- $l"
            """));
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-v" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Lines.Count(l => l.Contains("abandoned: the job has exited")), Is.EqualTo(2), d.Log);
    }
}

/// <summary>Found by watching the fuzzer's memory: every queued job may receive messages,
/// 64 MiB each, so only a bound on all mailboxes together bounds the daemon.</summary>
[TestFixture, CancelAfter(30_000)]
public class MessageMemoryTests
{
    [Test]
    public void Unread_messages_are_bounded_for_all_jobs_together()
    {
        var h = new Chaqum.Tests.Scheduling.Harness();
        var office = new Chaqum.Messaging.PostOffice(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, maxTotalBytes: 1000);
        var jobs = Enumerable.Range(0, 5).Select(_ => h.Enqueue(group: "q", limits: new Chaqum.Scheduling.GroupLimits { MaxProcs = 1 })).ToList();
        for (int i = 0; i < 4; i++) office.Send(h.Init, jobs[i], new byte[250]);
        var e = Assert.Throws<Chaqum.Protocol.ProtocolException>(() => office.Send(h.Init, jobs[4], new byte[1]));
        Assert.That(e!.Message, Does.Contain("too many messages wait unread"));
        // Received or dropped with their job, they make room again.
        Assert.That(office.Receive(jobs[0], _ => { }), Is.Not.Null);
        office.JobEnded(jobs[1]);
        office.Send(h.Init, jobs[4], new byte[500]);
        Assert.Throws<Chaqum.Protocol.ProtocolException>(() => office.Send(h.Init, jobs[4], new byte[1]));
    }
}
