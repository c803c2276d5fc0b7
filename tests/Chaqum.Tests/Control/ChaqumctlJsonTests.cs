using System.Globalization;
using System.Text.Json.Nodes;

namespace Chaqum.Tests.Control;

/// <summary>The --json output of chaqumctl, as docs/control.md lists it: every documented
/// field is there, with the documented type and meaning. (Fields may be added; none of
/// these may go.)</summary>
[TestFixture, CancelAfter(180_000)]
public class ChaqumctlJsonTests
{
    private static void HasFields(JsonNode node, string what, params string[] fields)
    {
        foreach (var field in fields)
            Assert.That(node.AsObject().ContainsKey(field), Is.True, $"{what}: field {field} in {node.ToJsonString()}");
    }

    private static DateTimeOffset Time(JsonNode? node) =>
        DateTimeOffset.ParseExact(node!.GetValue<string>(), "yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    [Test]
    public void Groups_repeats_history_stats_show_log_and_tree()
    {
        using var tree = new TempTree();
        tree.Script("ok", "echo fine\n");
        tree.Script("bad", "echo broken >&2\nexit 2\n");
        tree.Script("tick", "exit 0\n");
        tree.Script("sleeper", "echo zzz\nsleep 3600\n");
        using var d = Ctl.Daemon(tree, """
            cmd 'group -m 2 -l 5000 -- g'
            cmd "repeat -c '0 7 * * *' -g g -- tick"
            for s in ok ok bad; do cmd "enqueue -g g -- $s"; cmd "wait -- $(word 2)"; done
            cmd 'enqueue -g g -- sleeper'; echo "$(word 2)" > sleeper.id
            """);
        Poll.Until(() => tree.Exists("sleeper.id"), "init to set things up");
        string sleeper = tree.Read("sleeper.id").Trim();
        // Barrier-gated starts are paced: the sleeper may wait a moment in the queue.
        Poll.Until(() => Ctl.Job(tree, sleeper)?["state"]?.GetValue<string>() == "running", "the sleeper to run");

        var groups = Ctl.Run(tree, "groups", "--json").Json.AsArray();
        var g = groups.Single(x => x!["name"]?.GetValue<string>() == "g")!;
        HasFields(g, "groups", "name", "max_procs", "running", "queued", "paused", "barriers", "max_cpu", "max_load", "min_memory", "max_pressure", "held_by");
        Assert.That(g["max_procs"]!.GetValue<int>(), Is.EqualTo(2));
        // A load barrier no busy machine reaches (the suite once ran at load 70).
        Assert.That(g["max_load"]!.GetValue<double>(), Is.EqualTo(5000));
        Assert.That(g["barriers"]!.GetValue<string>(), Does.Contain("5000"));
        Assert.That(g["paused"]!.GetValue<bool>(), Is.False);
        Assert.That(g["held_by"], Is.Null, "nothing queued, nothing held");
        Assert.That(groups.Single(x => x!["name"] is null)!["max_procs"]!.GetValue<int>(), Is.EqualTo(0), "the default group (init) has no limit");

        var repeat = Ctl.Run(tree, "repeats", "--json").Json.AsArray().Single()!;
        HasFields(repeat, "repeats", "id", "script", "args", "schedule", "group", "overlap", "owner", "next_at", "last_fired_at", "last_job", "last_state", "last_status", "fired", "skipped");
        Assert.That(repeat["id"]!.GetValue<string>(), Does.Match(@"^repeat:\d+$"));
        Assert.That(repeat["schedule"]!.GetValue<string>(), Is.EqualTo("on cron '0 7 * * *'"));
        Assert.That(repeat["group"]!.GetValue<string>(), Is.EqualTo("g"));
        Assert.That(repeat["owner"]!.GetValue<string>(), Is.EqualTo("init"));
        var next = Time(repeat["next_at"]);
        Assert.That((next.ToLocalTime().Hour, next.ToLocalTime().Minute), Is.EqualTo((7, 0)));
        Assert.That(next, Is.GreaterThan(DateTimeOffset.Now));
        Assert.That(repeat["last_job"], Is.Null);
        Assert.That(repeat["fired"]!.GetValue<int>(), Is.EqualTo(0));

        var history = Poll.Until(() => Ctl.Run(tree, "history", "--json").Json.AsArray() is { Count: 3 } a ? a : null, "three runs in the history");
        foreach (var run in history)
            HasFields(run!, "history", "id", "script", "args", "command", "group", "parent", "attempt", "enqueued_at", "started_at", "ended_at",
                "runtime_seconds", "exit_code", "signal", "outcome", "cpu_user_seconds", "cpu_system_seconds", "max_rss_bytes", "pid");
        var bad = history.Single(r => r!["script"]!.GetValue<string>() == "bad")!;
        Assert.That(bad["exit_code"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(bad["signal"], Is.Null);
        Assert.That(bad["outcome"]!.GetValue<string>(), Is.EqualTo("failed"));
        Assert.That(bad["group"]!.GetValue<string>(), Is.EqualTo("g"));
        Assert.That(bad["parent"]!.GetValue<string>(), Is.EqualTo("init"));
        Assert.That(bad["attempt"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(bad["args"]!.AsArray(), Is.Empty);
        Assert.That(bad["pid"]!.GetValue<int>(), Is.GreaterThan(1));
        Assert.That(Time(bad["ended_at"]), Is.GreaterThanOrEqualTo(Time(bad["started_at"])));
        Assert.That(bad["runtime_seconds"]!.GetValue<double>(), Is.GreaterThanOrEqualTo(0));
        Assert.That(bad["cpu_user_seconds"]!.GetValue<double>(), Is.GreaterThanOrEqualTo(0));
        Assert.That(history.Count(r => r!["outcome"]!.GetValue<string>() == "exited" && r["exit_code"]!.GetValue<int>() == 0), Is.EqualTo(2));

        var stats = Ctl.Run(tree, "stats", "--json").Json.AsArray();
        foreach (var s in stats)
            HasFields(s!, "stats", "script", "runs", "failures", "median_seconds", "p95_seconds", "max_seconds", "cpu_seconds", "max_rss_bytes");
        var ok = stats.Single(s => s!["script"]!.GetValue<string>() == "ok")!;
        Assert.That((ok["runs"]!.GetValue<int>(), ok["failures"]!.GetValue<int>()), Is.EqualTo((2, 0)));
        Assert.That(ok["median_seconds"]!.GetValue<double>(), Is.LessThanOrEqualTo(ok["p95_seconds"]!.GetValue<double>()));
        Assert.That(ok["p95_seconds"]!.GetValue<double>(), Is.LessThanOrEqualTo(ok["max_seconds"]!.GetValue<double>()));
        var badStats = stats.Single(s => s!["script"]!.GetValue<string>() == "bad")!;
        Assert.That((badStats["runs"]!.GetValue<int>(), badStats["failures"]!.GetValue<int>()), Is.EqualTo((1, 1)));
        Assert.That(badStats["median_seconds"], Is.Null, "no successful run to measure");

        var log = Ctl.Run(tree, "log", "--json", bad["id"]!.GetValue<string>());
        Assert.That(log.Exit, Is.EqualTo(0), log.ToString());
        var line = JsonNode.Parse(log.Lines.Single())!;
        HasFields(line, "log", "time", "stream", "level", "text");
        Assert.That((line["stream"]!.GetValue<string>(), line["level"]!.GetValue<string>(), line["text"]!.GetValue<string>()), Is.EqualTo(("err", "WRN", "broken")));
        Assert.That(log.Out, Does.Not.Contain("\\u00"), "times and text as they are, not escaped");
        Time(line["time"]);

        var show = Ctl.Run(tree, "show", "--json", sleeper).Json;
        HasFields(show, "show", "id", "script", "args", "state", "group", "parent", "pid", "enqueued_at", "started_at", "ended_at",
            "runtime_seconds", "usual_seconds", "longer_than_usual", "attempt", "slot", "priority", "status", "outcome", "repeat",
            "command", "path", "parents", "children", "waited_on_by", "dependents", "timeout_seconds", "retries", "key", "end_reason",
            "processes", "cpu_seconds", "rss_bytes", "usual_runs", "usual_p95_seconds", "output");
        Assert.That(show["path"]!.GetValue<string>(), Is.EqualTo(Path.Combine(tree.Root, "sleeper")));
        Assert.That(show["slot"]!.GetValue<int>(), Is.EqualTo(0));
        Assert.That(show["output"]!.AsArray().Select(o => o!["text"]!.GetValue<string>()), Is.EqualTo(new[] { "zzz" }));

        var nested = Ctl.Run(tree, "tree", "--json").Json.AsArray();
        var init = nested.Single(j => j!["id"]!.GetValue<string>() == "init")!;
        Assert.That(init["children"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()), Does.Contain(sleeper));
        File.WriteAllText(tree.PathOf("stop"), "");
    }
}
