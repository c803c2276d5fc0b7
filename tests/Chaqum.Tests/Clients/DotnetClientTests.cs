using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using Chaqum.Client;
using Chaqum.Tests.Conformance;

namespace Chaqum.Tests.Clients;

/// <summary>
/// A daemon played by the test over two real pipes: it reads the client's command lines
/// (and message bytes) and writes the replies the test chooses.
/// </summary>
internal sealed class FakeDaemon : IDisposable
{
    private static readonly TimeSpan Bound = Deadline.Seconds(20);
    private readonly AnonymousPipeServerStream _commands = new(PipeDirection.In);
    private readonly AnonymousPipeServerStream _replies = new(PipeDirection.Out);

    public FakeDaemon(JobIdentity? identity = null)
    {
        Client = ChaqumJob.FromStreams(
            new AnonymousPipeClientStream(PipeDirection.Out, _commands.ClientSafePipeHandle),
            new AnonymousPipeClientStream(PipeDirection.In, _replies.ClientSafePipeHandle),
            identity ?? new JobIdentity("init", null, "/tree", null, null, 1));
    }

    public ChaqumJob Client { get; }

    /// <summary>The next command line (without LF).</summary>
    public async Task<string> ReadLineAsync()
    {
        var line = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            int n = await _commands.ReadAsync(one).AsTask().WaitAsync(Bound);
            if (n == 0) throw new EndOfStreamException("the client closed fd 3");
            if (one[0] == '\n') return Encoding.UTF8.GetString(line.ToArray());
            line.Add(one[0]);
        }
    }

    public async Task<byte[]> ReadBytesAsync(int count)
    {
        var data = new byte[count];
        await _commands.ReadExactlyAsync(data).AsTask().WaitAsync(Bound);
        return data;
    }

    public Task ReplyAsync(string text) => ReplyAsync(Encoding.UTF8.GetBytes(text));

    public async Task ReplyAsync(byte[] bytes)
    {
        await _replies.WriteAsync(bytes);
        await _replies.FlushAsync();
    }

    /// <summary>Reads one command, checks it, answers it.</summary>
    public async Task ExpectAsync(string command, string reply)
    {
        Assert.That(await ReadLineAsync(), Is.EqualTo(command));
        await ReplyAsync(reply);
    }

    /// <summary>As if the daemon went away: the reply pipe closes.</summary>
    public void CloseReplies() => _replies.Dispose();

    public void Dispose()
    {
        Client.Dispose();
        _commands.Dispose();
        _replies.Dispose();
    }
}

/// <summary>The .NET client against a fake daemon: the exact wire lines, reply parsing,
/// status mapping, errors, serialisation of concurrent callers, cancellation.</summary>
[TestFixture, CancelAfter(120_000)]
public class DotnetClientTests
{
    private static readonly TimeSpan Bound = Deadline.Seconds(20);

    [Test]
    public async Task Enqueue_sends_every_option_and_returns_the_job()
    {
        using var daemon = new FakeDaemon();
        var call = daemon.Client.EnqueueAsync("convert", ["a b", "", "it's"], new EnqueueOptions
        {
            Forget = true, Group = "convert", MaxProcs = 2, MaxCpu = 0.8, MaxLoad = 4, MinMemory = "512M",
            MaxPressure = 50, Timeout = TimeSpan.FromSeconds(90), Priority = -3, Key = "k 1",
            After = ["a/1", "b/2"], Retries = 2,
        });
        await daemon.ExpectAsync(
            "enqueue -F -g convert -m 2 -c 0.8 -l 4 -M 512M -P 50 -t 90 -p -3 -k 'k 1' -r 2 -a a/1 -a b/2 -- convert 'a b' '' 'it'\"'\"'s'",
            "S convert/12\n");
        var job = await call.WaitAsync(Bound);
        Assert.That(job.Id, Is.EqualTo("convert/12"));
        Assert.That(job.Chaqum, Is.SameAs(daemon.Client));
    }

    [Test]
    public async Task Enqueue_sends_delays_times_holds_urgent_and_requeue()
    {
        using var daemon = new FakeDaemon();
        var call = daemon.Client.EnqueueAsync("tick", options: new EnqueueOptions
        {
            Delay = TimeSpan.FromMinutes(10), Held = true, Urgent = true, Requeue = true,
        });
        await daemon.ExpectAsync("enqueue -d 600 -H -U -R -- tick", "S tick/3\n");
        await call.WaitAsync(Bound);
        call = daemon.Client.EnqueueAsync("tick", options: new EnqueueOptions
        {
            At = new DateTimeOffset(2026, 12, 24, 18, 0, 0, TimeSpan.FromHours(1)),
        });
        await daemon.ExpectAsync("enqueue -A 2026-12-24T18:00:00+01:00 -- tick", "S tick/4\n");
        await call.WaitAsync(Bound);
        call = daemon.Client.EnqueueAsync("tick", options: new EnqueueOptions { AtTimeOfDay = new TimeOnly(2, 30) });
        await daemon.ExpectAsync("enqueue -A 02:30:00 -- tick", "S tick/5\n");
        await call.WaitAsync(Bound);
        Assert.ThrowsAsync<ArgumentException>(() => daemon.Client.EnqueueAsync("tick", options: new EnqueueOptions
        {
            Delay = TimeSpan.FromSeconds(1), AtTimeOfDay = new TimeOnly(2, 0),
        }));
    }

    [Test]
    public async Task Arguments_that_look_like_options_or_hold_newlines_travel_as_operands()
    {
        using var daemon = new FakeDaemon();
        var call = daemon.Client.EnqueueAsync("args", ["-g", "--", "new\nline"]);
        var line = await daemon.ReadLineAsync();
        Assert.That(line, Is.EqualTo("enqueue -- args -g -- $'new\\nline'"));
        Assert.That(ShellWords.Split(line), Is.EqualTo(new[] { "enqueue", "--", "args", "-g", "--", "new\nline" }));
        await daemon.ReplyAsync("S args/1\n");
        await call.WaitAsync(Bound);
    }

    [Test]
    public async Task Repeats_group_and_unrepeat_send_their_options()
    {
        using var daemon = new FakeDaemon();
        var c = daemon.Client;

        var cron = c.RepeatCronAsync("0 2 * * *", "report", ["x"], new RepeatOptions { AllowOverlap = true, Group = "nightly", MaxCpu = 50 });
        await daemon.ExpectAsync("repeat -c '0 2 * * *' -o -g nightly -c 50 -- report x", "S repeat:1\n");
        Assert.That((await cron.WaitAsync(Bound)).Id, Is.EqualTo("repeat:1"));

        var zoned = c.RepeatCronAsync("30 2 * * *", "backup", null, new RepeatOptions { Zone = "Europe/Berlin", AllowOverlap = true });
        await daemon.ExpectAsync("repeat -c '30 2 * * *' -z Europe/Berlin -o -- backup", "S repeat:9\n");
        Assert.That((await zoned.WaitAsync(Bound)).Id, Is.EqualTo("repeat:9"));

        var every = c.RepeatEveryAsync(TimeSpan.FromMilliseconds(250), "counter", null, new RepeatOptions { Timeout = TimeSpan.FromTicks(1) });
        await daemon.ExpectAsync("repeat -i 0.25 -t 0.0000001 -- counter", "S repeat:2\n");
        var repeat = await every.WaitAsync(Bound);

        var stop = repeat.UnrepeatAsync();
        await daemon.ExpectAsync("unrepeat -- repeat:2", "S\n");
        await stop.WaitAsync(Bound);

        // Only the limits go to "group", even from options that carry more.
        var group = c.ConfigureGroupAsync("gpu", new EnqueueOptions { MaxProcs = 4, MinMemory = "2G", Group = "other", Retries = 1 });
        await daemon.ExpectAsync("group -m 4 -M 2G -- gpu", "S\n");
        await group.WaitAsync(Bound);

        Assert.Throws<ArgumentOutOfRangeException>(() => c.RepeatEveryAsync(TimeSpan.Zero, "counter"));
        Assert.Throws<ArgumentException>(() => c.RepeatEveryAsync(TimeSpan.FromSeconds(1), "counter", null, new RepeatOptions { Zone = "Europe/Berlin" }));
    }

    [Test]
    public async Task File_triggers_and_the_breaker_send_their_options()
    {
        using var daemon = new FakeDaemon();
        var c = daemon.Client;
        var trigger = c.RepeatOnChangesAsync(["inbox", "b c"], "scan", ["x"], new RepeatOptions { Settle = TimeSpan.FromSeconds(0.25), Group = "g", BreakAfter = 3 });
        await daemon.ExpectAsync("repeat -w inbox -w 'b c' --settle 0.25 -g g -B 3 -- scan x", "S repeat:1\n");
        Assert.That((await trigger.WaitAsync(Bound)).Id, Is.EqualTo("repeat:1"));

        var tree = c.RepeatOnChangesAsync(["/srv/data"], "scan", recursive: true);
        await daemon.ExpectAsync("repeat -W /srv/data -- scan", "S repeat:2\n");
        await tree.WaitAsync(Bound);

        var group = c.ConfigureGroupAsync("g", new GroupLimits { BreakAfter = 0 });
        await daemon.ExpectAsync("group -B 0 -- g", "S\n");
        await group.WaitAsync(Bound);

        Assert.Throws<ArgumentException>(() => c.RepeatOnChangesAsync([], "scan"));
        Assert.Throws<ArgumentException>(() => c.RepeatEveryAsync(TimeSpan.FromSeconds(1), "scan", null, new RepeatOptions { Settle = TimeSpan.FromSeconds(1) }));
    }

    [Test]
    public async Task Wait_reports_every_id_asked_in_order_with_its_status()
    {
        using var daemon = new FakeDaemon();
        var call = daemon.Client.WaitAllAsync(["e/5", "a/1", "b/2", "c/3", "d/4", "a/1"], TimeSpan.FromSeconds(0.2));
        await daemon.ExpectAsync("wait -a -t 0.2 -- e/5 a/1 b/2 c/3 d/4 a/1", "S a/1 0 b/2 -15 c/3 N d/4 T\n");
        var statuses = await call.WaitAsync(Bound);
        Assert.That(statuses.Keys, Is.EqualTo(new[] { "e/5", "a/1", "b/2", "c/3", "d/4" }));
        Assert.That(statuses.Values.Select(s => s.ToString()),
            Is.EqualTo(new[] { "unknown", "exit 0", "signal 15", "never-ran", "pending" }));
        Assert.That(statuses["a/1"].Succeeded, Is.True);
        Assert.That(statuses["b/2"].Signal, Is.EqualTo(15));
    }

    [Test]
    public async Task WaitAny_kill_and_the_job_handle_send_the_right_verbs()
    {
        using var daemon = new FakeDaemon();
        var c = daemon.Client;
        var job = c.GetJob("sleeper/7");

        var any = c.WaitAnyAsync([job, c.GetJob("exiter/8")]);
        await daemon.ExpectAsync("wait -f -- sleeper/7 exiter/8", "S sleeper/7 T exiter/8 4\n");
        Assert.That((await any.WaitAsync(Bound))["exiter/8"], Is.EqualTo(JobStatus.Exited(4)));

        var kill = job.KillAsync("KILL", TimeSpan.FromSeconds(5));
        await daemon.ExpectAsync("killjobs -s KILL -t 5 -- sleeper/7", "S sleeper/7 -9\n");
        Assert.That(await kill.WaitAsync(Bound), Is.EqualTo(JobStatus.Signaled(9)));

        var wait = job.WaitAsync(Timeout.InfiniteTimeSpan);
        await daemon.ExpectAsync("wait -a -- sleeper/7", "S\n");
        Assert.That(await wait.WaitAsync(Bound), Is.EqualTo(JobStatus.Unknown));

        var ping = c.PingAsync();
        await daemon.ExpectAsync("wait --", "S\n");
        await ping.WaitAsync(Bound);
    }

    [Test]
    public async Task Messages_travel_as_exact_bytes_both_ways()
    {
        using var daemon = new FakeDaemon();
        var c = daemon.Client;
        byte[] bytes = [0x00, 0x01, 0x0a, 0xff, 0x7f, 0x0d, 0x0a, 0x20];

        var send = c.SendAsync("echo/3", bytes);
        Assert.That(await daemon.ReadLineAsync(), Is.EqualTo("sendmsg -- echo/3 8"));
        Assert.That(await daemon.ReadBytesAsync(9), Is.EqualTo(bytes.Append((byte)'\n').ToArray()));
        await daemon.ReplyAsync("S msg:4\n");
        var sent = await send.WaitAsync(Bound);
        Assert.That(sent.Id, Is.EqualTo("msg:4"));

        // The body may itself look like replies: it is read by length, not by lines.
        var receive = c.ReceiveAsync(TimeSpan.FromSeconds(0.5));
        Assert.That(await daemon.ReadLineAsync(), Is.EqualTo("recvmsg -t 0.5"));
        await daemon.ReplyAsync([.. "S 8\n"u8, .. bytes, (byte)'\n']);
        var received = await receive.WaitAsync(Bound);
        Assert.That(received!.Data, Is.EqualTo(bytes));

        var nothing = c.ReceiveAsync(TimeSpan.Zero);
        await daemon.ExpectAsync("recvmsg -t 0", "T\n");
        Assert.That(await nothing.WaitAsync(Bound), Is.Null);

        var delivery = c.WaitReceivedAsync(["msg:4", "msg:5", "msg:6"], TimeSpan.FromSeconds(10));
        await daemon.ExpectAsync("waitrecv -t 10 -- msg:4 msg:5 msg:6", "S msg:4 R msg:5 T\n");
        Assert.That((await delivery.WaitAsync(Bound)).Values,
            Is.EqualTo(new[] { MessageDelivery.Received, MessageDelivery.NotReceived, MessageDelivery.Unknown }));
    }

    [Test]
    public async Task Text_and_json_messages_round_trip()
    {
        using var daemon = new FakeDaemon();
        var c = daemon.Client;
        var send = c.GetJob("init").SendJsonAsync(new { n = 1, s = "ü" });
        var header = await daemon.ReadLineAsync();
        int length = int.Parse(header.Split(' ')[^1]);
        var json = await daemon.ReadBytesAsync(length + 1);
        await daemon.ReplyAsync("S msg:1\n");
        await send.WaitAsync(Bound);

        var receive = c.ReceiveAsync();
        await daemon.ExpectAsync("recvmsg", $"S {length}\n");
        await daemon.ReplyAsync(json);
        var message = (await receive.WaitAsync(Bound))!;
        var back = message.FromJson<System.Text.Json.Nodes.JsonObject>()!;
        Assert.That((int)back["n"]!, Is.EqualTo(1));
        Assert.That((string)back["s"]!, Is.EqualTo("ü"));

        var text = c.SendTextAsync("init", "héllo\nend");
        Assert.That(await daemon.ReadLineAsync(), Is.EqualTo("sendmsg -- init 10"));
        Assert.That(Encoding.UTF8.GetString(await daemon.ReadBytesAsync(11)), Is.EqualTo("héllo\nend\n"));
        await daemon.ReplyAsync("S msg:2\n");
        await text.WaitAsync(Bound);
    }

    [Test]
    public async Task Plans_are_framed_like_sendmsg_from_text_bytes_and_json_nodes()
    {
        using var daemon = new FakeDaemon();
        var c = daemon.Client;

        const string text = """{"type": "execute", "command": "greet wörld"}""";
        var submit = c.SubmitPlanAsync(text);
        Assert.That(await daemon.ReadLineAsync(), Is.EqualTo("plan -- 46"));
        Assert.That(Encoding.UTF8.GetString(await daemon.ReadBytesAsync(47)), Is.EqualTo(text + "\n"));
        await daemon.ReplyAsync("S plan/3\n");
        var plan = await submit.WaitAsync(Bound);
        Assert.That(plan.Id, Is.EqualTo("plan/3"));
        Assert.That(plan.ToString(), Is.EqualTo("plan/3"));
        Assert.That(plan.Chaqum, Is.SameAs(c));

        byte[] raw = [.. "{\"type\":\n\"execute\"}\n"u8];
        submit = c.SubmitPlanAsync(raw);
        Assert.That(await daemon.ReadLineAsync(), Is.EqualTo($"plan -- {raw.Length}"));
        Assert.That(await daemon.ReadBytesAsync(raw.Length + 1), Is.EqualTo(raw.Append((byte)'\n').ToArray()));
        await daemon.ReplyAsync("S plan/4\n");
        await submit.WaitAsync(Bound);

        var node = new System.Text.Json.Nodes.JsonObject
        {
            ["type"] = "sequence_group",
            ["work"] = new System.Text.Json.Nodes.JsonArray(
                new System.Text.Json.Nodes.JsonObject { ["type"] = "execute", ["command"] = new System.Text.Json.Nodes.JsonArray("greet", "wörld's"), ["timeout"] = 60 }),
        };
        submit = c.SubmitPlanAsync(node);
        var header = await daemon.ReadLineAsync();
        int length = int.Parse(header["plan -- ".Length..]);
        var json = Encoding.UTF8.GetString(await daemon.ReadBytesAsync(length + 1));
        Assert.That(header, Is.EqualTo($"plan -- {length}"));
        Assert.That(json, Is.EqualTo("""{"type":"sequence_group","work":[{"type":"execute","command":["greet","wörld's"],"timeout":60}]}""" + "\n"),
            "compact, non-ASCII and quotes unescaped");
        await daemon.ReplyAsync("S plan/5\n");
        await submit.WaitAsync(Bound);

        var bad = c.SubmitPlanAsync("""{"type": "teleport"}""");
        Assert.That(await daemon.ReadLineAsync(), Is.EqualTo("plan -- 20"));
        await daemon.ReadBytesAsync(21);
        await daemon.ReplyAsync("E plan: $.type: unknown type 'teleport'\n");
        var e = Assert.ThrowsAsync<ChaqumException>(() => bad.WaitAsync(Bound));
        Assert.That(e!.Reason, Is.EqualTo("plan: $.type: unknown type 'teleport'"));
        Assert.That(e.IsRefusal, Is.True);

        var ping = c.PingAsync();
        await daemon.ExpectAsync("wait --", "S\n");
        await ping.WaitAsync(Bound);
    }

    [Test]
    public async Task WaitPlan_maps_every_state_and_T_to_running()
    {
        using var daemon = new FakeDaemon();
        var c = daemon.Client;
        var expected = new (string Reply, PlanState State)[]
        {
            ("succeeded", PlanState.Succeeded), ("failed", PlanState.Failed), ("cancelled", PlanState.Cancelled), ("T", PlanState.Running),
        };
        foreach (var (reply, state) in expected)
        {
            var wait = c.WaitPlanAsync("plan/3", TimeSpan.FromSeconds(0.5));
            await daemon.ExpectAsync("waitplan -t 0.5 -- plan/3", $"S plan/3 {reply}\n");
            Assert.That(await wait.WaitAsync(Bound), Is.EqualTo(state));
        }

        var handle = new PlanHandle(c, "plan/4");
        var forEver = handle.WaitAsync(Timeout.InfiniteTimeSpan);
        await daemon.ExpectAsync("waitplan -- plan/4", "S plan/4 succeeded\n");
        Assert.That(await forEver.WaitAsync(Bound), Is.EqualTo(PlanState.Succeeded));

        var unknown = c.WaitPlanAsync("plan/99");
        await daemon.ExpectAsync("waitplan -- plan/99", "E waitplan: unknown plan 'plan/99'\n");
        Assert.That(Assert.ThrowsAsync<ChaqumException>(() => unknown.WaitAsync(Bound))!.Reason, Is.EqualTo("waitplan: unknown plan 'plan/99'"));

        var odd = c.WaitPlanAsync("plan/3");
        await daemon.ExpectAsync("waitplan -- plan/3", "S plan/3 maybe\n");
        Assert.That(Assert.ThrowsAsync<ChaqumException>(() => odd.WaitAsync(Bound))!.Message, Does.Contain("maybe"));

        Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => c.WaitPlanAsync("plan/3", TimeSpan.FromSeconds(-1)));
    }

    [Test]
    public async Task A_refusal_throws_the_daemons_reason_and_the_connection_stays_usable()
    {
        using var daemon = new FakeDaemon();
        var call = daemon.Client.EnqueueAsync("nosuch");
        await daemon.ExpectAsync("enqueue -- nosuch", "E enqueue: no such script: 'nosuch'\n");
        var e = Assert.ThrowsAsync<ChaqumException>(() => call.WaitAsync(Bound));
        Assert.That(e!.Message, Is.EqualTo("enqueue: no such script: 'nosuch'"));
        Assert.That(e.Reason, Is.EqualTo(e.Message));
        Assert.That(e.IsRefusal, Is.True);
        Assert.That(e.Command, Is.EqualTo("enqueue -- nosuch"));

        var next = daemon.Client.EnqueueAsync("exiter");
        await daemon.ExpectAsync("enqueue -- exiter", "S exiter/2\n");
        Assert.That((await next.WaitAsync(Bound)).Id, Is.EqualTo("exiter/2"));
    }

    [Test]
    public async Task An_unreadable_status_fails_the_call_but_the_stream_stays_in_step()
    {
        using var daemon = new FakeDaemon();
        var call = daemon.Client.WaitAllAsync(["a/1"]);
        await daemon.ExpectAsync("wait -a -- a/1", "S a/1 banana\n");
        var e = Assert.ThrowsAsync<ChaqumException>(() => call.WaitAsync(Bound));
        Assert.That(e!.IsRefusal, Is.False);
        Assert.That(e.Message, Does.Contain("banana"));

        var ping = daemon.Client.PingAsync();
        await daemon.ExpectAsync("wait --", "S\n");
        await ping.WaitAsync(Bound);
    }

    [Test]
    public async Task A_reply_that_is_no_reply_breaks_the_connection_for_good()
    {
        using var daemon = new FakeDaemon();
        var call = daemon.Client.PingAsync();
        await daemon.ExpectAsync("wait --", "hello\n");
        var e = Assert.ThrowsAsync<ChaqumException>(() => call.WaitAsync(Bound));
        Assert.That(e!.Message, Does.Contain("unexpected reply").And.Contain("hello"));

        var later = Assert.ThrowsAsync<ChaqumException>(() => daemon.Client.PingAsync().WaitAsync(Bound));
        Assert.That(later!.Message, Does.Contain("unusable"));
    }

    [Test]
    public async Task When_the_daemon_goes_away_calls_fail_instead_of_hanging()
    {
        using var daemon = new FakeDaemon();
        var call = daemon.Client.PingAsync();
        Assert.That(await daemon.ReadLineAsync(), Is.EqualTo("wait --"));
        daemon.CloseReplies();
        var e = Assert.ThrowsAsync<ChaqumException>(() => call.WaitAsync(Bound));
        Assert.That(e!.Message, Does.Contain("fd 4"));
        Assert.ThrowsAsync<ChaqumException>(() => daemon.Client.PingAsync().WaitAsync(Bound));
    }

    [Test]
    public async Task Concurrent_callers_each_get_their_own_reply_one_exchange_at_a_time()
    {
        using var daemon = new FakeDaemon();
        const int callers = 50;
        int repliesSent = 0;
        var arrivals = new List<(string Line, int RepliesBefore)>();
        var lines = Channel.CreateUnbounded<string>();

        // The reader runs apart from the replier, so a command sent before the previous
        // reply was read would be seen arriving early.
        var reader = Task.Run(async () =>
        {
            for (int i = 0; i < callers; i++)
            {
                var line = await daemon.ReadLineAsync();
                lock (arrivals) arrivals.Add((line, Volatile.Read(ref repliesSent)));
                await lines.Writer.WriteAsync(line);
            }
        });
        var replier = Task.Run(async () =>
        {
            for (int i = 0; i < callers; i++)
            {
                var words = ShellWords.Split(await lines.Reader.ReadAsync());
                // Counted before writing: the next command cannot arrive before this reply.
                Interlocked.Increment(ref repliesSent);
                await daemon.ReplyAsync($"S {words[^1]}/{i}\n");
            }
        });

        var calls = Enumerable.Range(0, callers)
            .Select(n => Task.Run(() => daemon.Client.EnqueueAsync($"script{n}")))
            .ToList();
        var jobs = await Task.WhenAll(calls).WaitAsync(Bound);
        await Task.WhenAll(reader, replier).WaitAsync(Bound);

        for (int n = 0; n < callers; n++) Assert.That(jobs[n].Id, Does.StartWith($"script{n}/"));
        Assert.That(jobs.Select(j => j.Id).Distinct().Count(), Is.EqualTo(callers));
        for (int i = 0; i < callers; i++)
        {
            Assert.That(arrivals[i].Line, Does.Match(@"^enqueue -- script\d+$"));
            Assert.That(arrivals[i].RepliesBefore, Is.EqualTo(i), $"command {i} was sent before reply {i - 1} was read");
        }
    }

    [Test]
    public async Task Cancelling_a_call_that_waits_for_its_turn_leaves_the_connection_usable()
    {
        using var daemon = new FakeDaemon();
        var c = daemon.Client;
        var first = c.WaitAllAsync(["slow/1"]);
        Assert.That(await daemon.ReadLineAsync(), Is.EqualTo("wait -a -- slow/1"));

        using var cancel = new CancellationTokenSource();
        var second = c.EnqueueAsync("never", cancel: cancel.Token);
        cancel.Cancel();
        Assert.CatchAsync<OperationCanceledException>(() => second.WaitAsync(Bound));

        await daemon.ReplyAsync("S slow/1 0\n");
        Assert.That((await first.WaitAsync(Bound))["slow/1"], Is.EqualTo(JobStatus.Exited(0)));

        // The cancelled command was never sent: the next line is the next call's.
        var third = c.EnqueueAsync("exiter");
        await daemon.ExpectAsync("enqueue -- exiter", "S exiter/2\n");
        Assert.That((await third.WaitAsync(Bound)).Id, Is.EqualTo("exiter/2"));
    }

    [Test]
    public async Task Cancelling_a_call_whose_reply_is_due_breaks_the_connection_rather_than_desynchronising_it()
    {
        using var daemon = new FakeDaemon();
        using var cancel = new CancellationTokenSource();
        var call = daemon.Client.ReceiveAsync(cancel: cancel.Token);
        Assert.That(await daemon.ReadLineAsync(), Is.EqualTo("recvmsg"));
        cancel.Cancel();
        Assert.CatchAsync<OperationCanceledException>(() => call.WaitAsync(Bound));

        // The reply the cancelled call left behind must not be taken for the next one's.
        await daemon.ReplyAsync("S 2\nhi\n");
        var e = Assert.ThrowsAsync<ChaqumException>(() => daemon.Client.PingAsync().WaitAsync(Bound));
        Assert.That(e!.Message, Does.Contain("cancelled"));
    }

    [Test]
    public void Calls_after_dispose_throw_ObjectDisposedException()
    {
        var daemon = new FakeDaemon();
        daemon.Dispose();
        Assert.ThrowsAsync<ObjectDisposedException>(() => daemon.Client.PingAsync().WaitAsync(Bound));
    }

    [TestCase("0", JobStatusKind.Exited, 0, "exit 0")]
    [TestCase("255", JobStatusKind.Exited, 255, "exit 255")]
    [TestCase("-15", JobStatusKind.Signaled, 15, "signal 15")]
    [TestCase("-9", JobStatusKind.Signaled, 9, "signal 9")]
    [TestCase("N", JobStatusKind.NeverRan, null, "never-ran")]
    [TestCase("T", JobStatusKind.Pending, null, "pending")]
    public void Status_words_map_to_statuses_and_back(string word, JobStatusKind kind, int? value, string text)
    {
        var status = JobStatus.Parse(word);
        Assert.That(status.Kind, Is.EqualTo(kind));
        Assert.That(status.ExitCode ?? status.Signal, Is.EqualTo(value));
        Assert.That(status.ToString(), Is.EqualTo(text));
        Assert.That(status.ToWire(), Is.EqualTo(word));
        Assert.That(status.HasEnded, Is.EqualTo(kind is not JobStatusKind.Pending));
    }

    [TestCase("256")]
    [TestCase("-0")]
    [TestCase("+1")]
    [TestCase("R")]
    [TestCase("")]
    public void Words_that_are_not_statuses_are_refused(string word) =>
        Assert.Throws<FormatException>(() => JobStatus.Parse(word));

    [Test]
    public void The_default_status_is_unknown()
    {
        Assert.That(default(JobStatus), Is.EqualTo(JobStatus.Unknown));
        Assert.That(JobStatus.Unknown.ToString(), Is.EqualTo("unknown"));
        Assert.That(JobStatus.Unknown.ToWire(), Is.Null);
        Assert.That(JobStatus.Unknown.HasEnded, Is.False);
    }

    [Test]
    public void Log_lines_carry_the_level_prefix_on_every_line()
    {
        Assert.That(ChaqumLog.Format('E', "disk full"), Is.EqualTo("E\x1f" + "disk full\n"));
        Assert.That(ChaqumLog.Format('W', "two\r\nlines"), Is.EqualTo("W\x1f" + "two\nW\x1f" + "lines\n"));
    }

    [Test]
    public void Seconds_are_written_the_way_the_daemon_reads_them()
    {
        Assert.That(CommandLine.Seconds(TimeSpan.FromSeconds(0.2)), Is.EqualTo("0.2"));
        Assert.That(CommandLine.Seconds(TimeSpan.FromMinutes(10)), Is.EqualTo("600"));
        Assert.That(CommandLine.Seconds(TimeSpan.FromTicks(1)), Is.EqualTo("0.0000001"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChaqumJob.Bounded(TimeSpan.FromSeconds(-1)));
        Assert.That(ChaqumJob.Bounded(Timeout.InfiniteTimeSpan), Is.Null);
    }

    [Test]
    public void Identity_comes_from_the_environment()
    {
        var env = new Dictionary<string, string>
        {
            ["CHAQUM_IDENT"] = "convert/12", ["CHAQUM_PARENT"] = "init", ["CHAQUM_TREE"] = "/t",
            ["CHAQUM_GROUP"] = "convert", ["CHAQUM_SLOT"] = "1", ["CHAQUM_ATTEMPT"] = "3",
        };
        Assert.That(JobIdentity.FromEnvironment(k => env.GetValueOrDefault(k)),
            Is.EqualTo(new JobIdentity("convert/12", "init", "/t", "convert", 1, 3)));
        Assert.That(JobIdentity.FromEnvironment(_ => null), Is.EqualTo(new JobIdentity(null, null, null, null, null, 1)));
    }
}

/// <summary>Connect's check of fds 3 and 4, on real descriptors.</summary>
[TestFixture, CancelAfter(120_000)]
public partial class DotnetClientFdTests
{
    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int pipe(int* fds);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    /// <summary>A pipe without close-on-exec, like the ones the daemon hands a job.</summary>
    private static unsafe (int Read, int Write) InheritablePipe()
    {
        int* fds = stackalloc int[2];
        Assert.That(pipe(fds), Is.EqualTo(0), "pipe()");
        return (fds[0], fds[1]);
    }

    [Test]
    public void An_inherited_pipe_pair_is_accepted_and_anything_else_is_explained()
    {
        var (read, write) = InheritablePipe();
        try
        {
            Assert.That(JobFds.Problem(write, read), Is.Null);
            Assert.That(JobFds.Problem(read, write), Does.Contain($"fds {read} and {write}")
                .And.Contain($"fd {read} is not open for writing").And.Contain($"fd {write} is not open for reading"));
        }
        finally
        {
            close(read);
            close(write);
        }
        // Not the fds just closed: another thread of the test host may reuse those numbers
        // at once. The kernel hands out the lowest free number, so high ones stay free.
        int unused = Enumerable.Range(900, 100).First(fd => !File.Exists($"/proc/self/fd/{fd}"));
        Assert.That(JobFds.Problem(unused, unused + 1), Does.Contain($"fd {unused} is not open"));
    }

    [Test]
    public void The_runtimes_own_descriptors_are_refused()
    {
        // .NET opens everything close-on-exec, like the runtime's pipes that land on fds 3
        // and 4 in a process started outside chaqum.
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var file = File.OpenRead("/proc/self/status");
        int fd = (int)pipe.SafePipeHandle.DangerousGetHandle();
        int regular = (int)file.SafeFileHandle.DangerousGetHandle();
        Assert.That(JobFds.Problem(fd, regular), Does.Contain($"fd {fd} is close-on-exec").And.Contain("not a pipe"));
    }

    [Test]
    public void Connect_with_fds_3_and_4_open_on_something_else_fails_clearly()
    {
        // A child with fd 3 and 4 open without close-on-exec, but on /dev/null.
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec dotnet \"$0\" enqueue-wait 3>/dev/null 4</dev/null");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ConformanceJob.dll"));
        foreach (var k in info.Environment.Keys.Where(k => k.StartsWith("CHAQUM_")).ToList()) info.Environment.Remove(k);
        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(Deadline.Seconds(60)))
        {
            p.Kill(true);
            Assert.Fail("Connect hung with fds 3 and 4 on /dev/null");
        }
        Assert.That(p.ExitCode, Is.Not.EqualTo(0));
        Assert.That(stderr.Result, Does.Contain("fds 3 and 4").And.Contain("fd 3 is /dev/null, not a pipe"), stdout.Result);
    }
}

/// <summary>The .NET client through the real daemon, beyond the conformance corpus.</summary>
[TestFixture, CancelAfter(120_000)]
public class DotnetClientDaemonTests
{
    [Test]
    public void Many_tasks_share_one_connection_and_each_gets_its_own_jobs_status()
    {
        using var tree = ConformanceTests.BuildTree("dotnet");
        using var d = DaemonProcess.Start(tree, new[] { "dotnet-concurrency" }, ConformanceTests.Environment());
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(90)), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "concurrent ok" }), d.Log);
        Assert.That(d.Lines.Count(l => l.Contains("refused")), Is.Zero, d.Log);
    }
}
