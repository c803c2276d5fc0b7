using System.Collections.Concurrent;
using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.Tests.Control;

namespace Chaqum.Tests.Web;

/// <summary>The control socket's events request and paged ps, with a real daemon: what the
/// web dashboard's live updates and jobs page stand on.</summary>
[TestFixture, CancelAfter(180_000)]
public class EventsRequestTests
{
    private static string SocketOf(TempTree tree) => File.ReadAllText(Path.Combine(tree.StateDir, "control-socket")).Trim();

    /// <summary>Follows events on a thread of its own until disposed.</summary>
    private sealed class Follower : IDisposable
    {
        private readonly ControlClient _client;
        private readonly Thread _thread;
        public readonly ConcurrentQueue<DaemonEvent> Events = new();

        public Follower(string socket, string? job = null)
        {
            _client = ControlClient.Connect(socket);
            _thread = new Thread(() =>
            {
                try { _client.Call(ControlVerbs.Events, new EventsArgs { Job = job }, e => { if (e.Change is { } c) Events.Enqueue(c); }); }
                catch (Exception e) when (e is ControlUnavailableException or ObjectDisposedException) { }
            }) { IsBackground = true };
            _thread.Start();
        }

        public DaemonEvent WaitFor(string kind, string? job = null) => Poll.Until(
            () => Events.FirstOrDefault(e => e.Kind == kind && (job is null || e.Job == job)),
            $"event {kind} {job}; so far: {string.Join(", ", Events.Select(e => e.Kind + " " + e.Job))}");

        public void Dispose()
        {
            _client.Dispose();
            _thread.Join(TimeSpan.FromSeconds(10));
        }
    }

    [Test]
    public void Events_report_a_job_enqueued_started_paused_killed_and_ended_and_group_and_repeat_changes()
    {
        using var tree = new TempTree();
        tree.Script("sleeper", "while [ ! -e go ]; do sleep 0.05; done\n");
        using var d = Ctl.Daemon(tree, "");
        using var all = new Follower(SocketOf(tree));
        // The subscription exists once the daemon counts it (status).
        Poll.Until(() => Status(tree).EventSubscribers == 1, "the daemon to count the subscriber");

        string id = Ctl.Run(tree, "enqueue", "-g", "work", "--", "sleeper").Out.Trim();
        using var one = new Follower(SocketOf(tree), id);
        Assert.That(all.WaitFor("enqueued", id).Script, Is.EqualTo("sleeper"));
        Assert.That(all.WaitFor("started", id).State, Is.EqualTo("running"));
        Poll.Until(() => Status(tree).EventSubscribers == 2, "the second subscriber");

        Assert.That(Ctl.Run(tree, "pause", id).Exit, Is.EqualTo(0));
        Assert.That(one.WaitFor("paused", id).State, Is.EqualTo("paused"));
        Assert.That(Ctl.Run(tree, "resume", id).Exit, Is.EqualTo(0));
        one.WaitFor("resumed", id);

        Assert.That(Ctl.Run(tree, "pause", "-g", "work").Exit, Is.EqualTo(0));
        var group = all.WaitFor("group");
        Assert.That((group.Group, group.Detail), Is.EqualTo(("work", "paused")));

        Assert.That(Ctl.Run(tree, "kill", "--yes", id).Exit, Is.EqualTo(0));
        Assert.That(one.WaitFor("killed", id).Detail, Is.EqualTo("SIGTERM"));
        var ended = one.WaitFor("ended", id);
        Assert.That((ended.Status, ended.Outcome), Is.EqualTo(("-15", "killed")));
        Assert.That(ended.RuntimeSeconds, Is.Not.Null);
        // The job's own follower hears about its job only.
        Assert.That(one.Events.All(e => e.Job == id), Is.True);
        Assert.That(one.Events.Any(e => e.Kind == "group"), Is.False);

        tree.Script("tick", "true\n");
        tree.Script("reg", Chaqum.Tests.Daemon.Sh.Script("cmd 'repeat -i 1h -- tick'\n"));
        Assert.That(Ctl.Run(tree, "run", "--", "reg").Exit, Is.EqualTo(0));
        var added = all.WaitFor("repeat");
        Assert.That((added.Repeat, added.Detail, added.Script), Is.EqualTo(("repeat:1", "added", "tick")));
        Assert.That(Ctl.Run(tree, "disable", "repeat:1").Exit, Is.EqualTo(0));
        Poll.Until(() => all.Events.Any(e => e.Kind == "repeat" && e.Detail == "disabled"), "the repeat's disable event");
        Assert.That(Ctl.Run(tree, "unrepeat", "repeat:1").Exit, Is.EqualTo(0));
        Poll.Until(() => all.Events.Any(e => e.Kind == "repeat" && e.Detail == "removed"), "the repeat's removal event");

        // A follower that goes away is forgotten by the daemon.
        one.Dispose();
        Poll.Until(() => Status(tree).EventSubscribers == 1, "the daemon to forget the closed subscriber");
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void A_subscriber_that_does_not_read_costs_a_bounded_queue_and_is_told_how_many_events_it_missed()
    {
        using var tree = new TempTree();
        tree.Script("noop", "true\n");
        // 40 000 held jobs: 40 000 "enqueued" events, more than the session's bound holds.
        tree.Script("flood", "#!/usr/bin/env python3\nimport os\nw = os.fdopen(3, 'w'); r = os.fdopen(4)\n"
            + "for i in range(40000):\n    w.write('enqueue -H -- noop %d\\n' % i); w.flush(); r.readline()\nprint('flooded')\n");
        using var d = Ctl.Daemon(tree, "");
        using var raw = new RawControl(SocketOf(tree));
        raw.Send("{\"v\":1,\"id\":1,\"cmd\":\"events\"}\n");
        Poll.Until(() => Status(tree).EventSubscribers == 1, "the subscription");
        // Nothing is read from raw while the flood runs.
        var run = Ctl.Run(tree, "run", "--", "flood");
        Assert.That((run.Exit, run.Out.Trim()), Is.EqualTo((0, "flooded")), run.ToString());
        long skipped = 0, seen = 0;
        // Every noop enqueue is either seen or counted in a skipped marker.
        while (seen + skipped < 40000)
        {
            var line = raw.ReadLine() ?? throw new AssertionException("the daemon closed the events connection");
            var node = System.Text.Json.Nodes.JsonNode.Parse(line)!;
            if (node["event"]?["skipped"] is { } n) skipped += n.GetValue<long>();
            else if (node["event"]?["change"] is { } c && c["script"]?.GetValue<string>() == "noop") seen++;
        }
        Assert.That(skipped, Is.GreaterThan(0), "a reader that fell behind is told what it missed");
        Assert.That(seen + skipped, Is.GreaterThanOrEqualTo(40000));
        Assert.That(seen, Is.LessThan(40000));
    }

    [Test]
    public void Events_for_an_unknown_job_are_refused()
    {
        using var tree = new TempTree();
        using var d = Ctl.Daemon(tree, "");
        using var client = ControlClient.Connect(SocketOf(tree));
        var e = Assert.Throws<ControlFailedException>(() => client.Call(ControlVerbs.Events, new EventsArgs { Job = "nosuch/1" }));
        Assert.That(e!.Message, Is.EqualTo("no job 'nosuch/1'"));
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void Status_counts_jobs_by_state_spawns_and_exits()
    {
        using var tree = new TempTree();
        tree.Script("ok", "true\n");
        tree.Script("bad", "exit 3\n");
        using var d = Ctl.Daemon(tree, "");
        Assert.That(Ctl.Run(tree, "run", "--", "ok").Exit, Is.EqualTo(0));
        Assert.That(Ctl.Run(tree, "run", "--", "bad").Exit, Is.EqualTo(3));
        string held = Ctl.Run(tree, "enqueue", "-H", "--", "ok").Out.Trim();
        var s = Status(tree);
        Assert.That(s.Jobs.GetValueOrDefault("running"), Is.EqualTo(1), "init");
        Assert.That(s.Jobs.GetValueOrDefault("held"), Is.EqualTo(1));
        Assert.That(s.Spawns, Is.EqualTo(3));
        Assert.That(s.Exits.GetValueOrDefault("exited"), Is.EqualTo(1));
        Assert.That(s.Exits.GetValueOrDefault("failed"), Is.EqualTo(1));
        Assert.That(s.RssBytes, Is.GreaterThan(1024 * 1024));
        Assert.That(s.LoopLagSeconds, Is.GreaterThanOrEqualTo(0));
        Assert.That(s.Tree, Is.EqualTo(tree.Root));
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(Ctl.Run(tree, "kill", "--yes", held).Exit, Is.EqualTo(0));
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void Ps_pages_filters_and_sorts_on_the_daemon_side()
    {
        using var tree = new TempTree();
        tree.Script("a", "true\n");
        tree.Script("b", "true\n");
        tree.Script("long", "while [ ! -e go ]; do sleep 0.05; done\n");
        using var d = Ctl.Daemon(tree, "");
        // 30 held jobs of a, 10 of b: held, so nothing runs.
        for (int i = 0; i < 30; i++) Ctl.Run(tree, "enqueue", "-H", "-g", "ga", "--", "a", i.ToString());
        for (int i = 0; i < 10; i++) Ctl.Run(tree, "enqueue", "-H", "--", "b", i.ToString());
        string first = Ctl.Run(tree, "enqueue", "--", "long", "1").Out.Trim();
        Poll.Until(() => Ctl.Job(tree, first)?["state"]?.GetValue<string>() == "running", "the first long job to run");
        string second = Ctl.Run(tree, "enqueue", "--", "long", "2").Out.Trim();
        Poll.Until(() => Ctl.Job(tree, second)?["state"]?.GetValue<string>() == "running", "the second long job to run");

        using var client = ControlClient.Connect(SocketOf(tree));
        var page = client.Call(ControlVerbs.Ps, new PsArgs { Script = "a", Offset = 10, Limit = 5 });
        Assert.That(page.Total, Is.EqualTo(30));
        Assert.That(page.Jobs.Select(j => j.Args[0]), Is.EqualTo(new[] { "10", "11", "12", "13", "14" }));

        var grouped = client.Call(ControlVerbs.Ps, new PsArgs { Group = "-", State = "held", Limit = 3 });
        Assert.That((grouped.Total, grouped.Jobs.Count), Is.EqualTo((10, 3)));
        Assert.That(grouped.Jobs.All(j => j.Script == "b"), Is.True);

        // Longest running first: the first long job, then the second (init runs longest of all).
        var byRuntime = client.Call(ControlVerbs.Ps, new PsArgs { Sort = "runtime", Limit = 3 });
        Assert.That(byRuntime.Jobs.Select(j => j.Id), Is.EqualTo(new[] { "init", first, second }));
        Assert.That(byRuntime.Total, Is.EqualTo(43));

        var past = client.Call(ControlVerbs.Ps, new PsArgs { Offset = 1000, Limit = 10 });
        Assert.That((past.Total, past.Jobs.Count), Is.EqualTo((43, 0)));
        // No usual runtime yet: nothing is longer than usual.
        Assert.That(client.Call(ControlVerbs.Ps, new PsArgs { Longer = true }).Total, Is.EqualTo(0));

        Assert.That(Assert.Throws<ControlFailedException>(() => client.Call(ControlVerbs.Ps, new PsArgs { Offset = -1 }))!.Message,
            Is.EqualTo("ps: offset must not be negative"));
        Assert.That(Assert.Throws<ControlFailedException>(() => client.Call(ControlVerbs.Ps, new PsArgs { Sort = "name" }))!.Message,
            Does.Contain("unknown sort 'name'"));

        File.WriteAllText(tree.PathOf("go"), "");
        File.WriteAllText(tree.PathOf("stop"), "");
        var held = client.Call(ControlVerbs.Ps, new PsArgs { State = "held" }).Jobs.Select(j => j.Id);
        Assert.That(Ctl.Run(tree, new[] { "kill", "--yes" }.Concat(held).ToArray()).Exit, Is.EqualTo(0));
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    private static StatusResult Status(TempTree tree)
    {
        using var client = ControlClient.Connect(SocketOf(tree));
        return client.Call(ControlVerbs.Status);
    }
}
