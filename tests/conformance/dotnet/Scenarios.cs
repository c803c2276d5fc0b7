using System.Text.Json.Nodes;
using Chaqum.Client;

namespace Chaqum.Conformance;

/// <summary>The scenarios of tests/conformance/README.md, in its order; each prints its
/// lines on stdout and returns the exit status.</summary>
public sealed class Scenarios(ChaqumJob chaqum)
{
    public Func<Task<int>>? Find(string name) => name switch
    {
        "enqueue-wait" => EnqueueWait,
        "statuses" => Statuses,
        "wait-first" => WaitFirst,
        "errors" => Errors,
        "quoting" => Quoting,
        "messages" => Messages,
        "logging" => Logging,
        "identity" => Identity,
        "identity-child" => IdentityChild,
        "options" => Options,
        "delays" => Delays,
        "repeat" => Repeat,
        "triggers" => Triggers,
        "triggers-child" => TriggersChild,
        "plans" => Plans,
        "outside" => Outside,
        "dotnet-concurrency" => Concurrency,
        _ => null,
    };

    private static void Print(object line) => Console.WriteLine(line);

    private async Task<int> EnqueueWait()
    {
        var jobs = new List<JobHandle>();
        foreach (var code in new[] { "0", "3", "255" }) jobs.Add(await chaqum.EnqueueAsync("exiter", [code]));
        var statuses = await chaqum.WaitAllAsync(jobs);
        foreach (var job in jobs) Print(statuses[job.Id]);
        return 0;
    }

    private async Task<int> Statuses()
    {
        var sleeper = await chaqum.EnqueueAsync("sleeper");
        Print(await sleeper.WaitAsync(TimeSpan.FromSeconds(0.2)));
        Print(await sleeper.KillAsync());
        var broken = await chaqum.EnqueueAsync("broken");
        Print(await broken.WaitAsync());
        var second = await chaqum.EnqueueAsync("sleeper");
        Print(await second.KillAsync("KILL"));
        var exiter = await chaqum.EnqueueAsync("exiter", ["7"]);
        Print(await exiter.WaitAsync());
        return 0;
    }

    private async Task<int> WaitFirst()
    {
        var sleeper = await chaqum.EnqueueAsync("sleeper");
        var exiter = await chaqum.EnqueueAsync("exiter", ["4"]);
        var statuses = await chaqum.WaitAnyAsync([sleeper, exiter]);
        Print(statuses[sleeper.Id]);
        Print(statuses[exiter.Id]);
        Print(await sleeper.KillAsync());
        return 0;
    }

    private async Task<int> Errors()
    {
        await PrintError(() => chaqum.EnqueueAsync("nosuch"));
        await PrintError(() => chaqum.UnrepeatAsync(["repeat:999"]));
        await PrintError(() => chaqum.GetJob(chaqum.Identity.Id!).KillAsync());
        await chaqum.PingAsync();
        Print("still talking");
        return 0;
    }

    private static async Task PrintError(Func<Task> call)
    {
        try
        {
            await call();
            Print("no error");
        }
        catch (ChaqumException e)
        {
            Print("ERROR " + e.Message);
        }
    }

    private async Task<int> Quoting()
    {
        string[] args =
        [
            "plain", "", "a b", "it's", "say \"hi\"", @"back\slash", "$HOME and $(id) and `id`",
            "new\nline", "tab\there", "ünïcödé €", "-g", "--", "*?[]{};|&<>()!#~",
            "  leading and trailing  ",
        ];
        var job = await chaqum.EnqueueAsync("args", ["quoting.txt", .. args]);
        await job.WaitAsync();
        foreach (var line in File.ReadAllLines("quoting.txt")) Print(line);
        Print("args done");
        return 0;
    }

    private async Task<int> Messages()
    {
        var nothing = await chaqum.ReceiveAsync(TimeSpan.FromSeconds(0.2));
        Print(nothing is null ? "recv timeout" : "recv got a message");

        byte[] bytes = [0x00, 0x01, 0x0a, 0xff, 0x7f, 0x0d, 0x0a, 0x20];
        const string text = "héllo wörld \"quoted\" 'single' $x\nend";
        foreach (var lang in new[] { "sh", "python", "perl", "dotnet" })
        {
            string peer = "echo-" + lang;
            try
            {
                var forBytes = await chaqum.EnqueueAsync(peer);
                await forBytes.SendAsync(bytes);
                var echo = await chaqum.ReceiveAsync(TimeSpan.FromSeconds(600));
                Print(echo is not null && echo.Data.AsSpan().SequenceEqual(bytes) ? $"{peer} bytes ok" : $"{peer} bytes differ");

                var forText = await chaqum.EnqueueAsync(peer);
                await forText.SendTextAsync(text);
                echo = await chaqum.ReceiveAsync(TimeSpan.FromSeconds(600));
                Print(echo?.Text == text ? $"{peer} text ok" : $"{peer} text differs");

                await chaqum.WaitAllAsync([forBytes, forText]);
            }
            catch (ChaqumException e)
            {
                Print($"{peer} failed: {e.Message}");
            }
        }

        var python = await chaqum.EnqueueAsync("echo-python");
        var sent = await python.SendTextAsync("are you there?");
        var delivery = await sent.WaitReceivedAsync(TimeSpan.FromSeconds(600));
        Print(delivery == MessageDelivery.Received ? "delivered" : $"not delivered: {delivery}");
        await chaqum.ReceiveAsync(TimeSpan.FromSeconds(600));
        await python.WaitAsync();

        var json = JsonNode.Parse("""{"n": 1, "s": "ü", "l": [true, null]}""");
        var jsonPeer = await chaqum.EnqueueAsync("echo-python");
        await jsonPeer.SendJsonAsync(json);
        var back = await chaqum.ReceiveAsync(TimeSpan.FromSeconds(600));
        Print(back is not null && JsonNode.DeepEquals(json, back.FromJson<JsonNode>()) ? "json ok" : "json differs");
        await jsonPeer.WaitAsync();
        return 0;
    }

    private static Task<int> Logging()
    {
        ChaqumLog.Critical("conformance critical 1");
        ChaqumLog.Error("conformance error 2");
        ChaqumLog.Warning("conformance warning 3");
        ChaqumLog.Info("conformance info 4");
        ChaqumLog.Debug("conformance debug 5");
        Print("logged");
        return Task.FromResult(0);
    }

    private async Task<int> Identity()
    {
        var me = chaqum.Identity;
        Print($"ident {me.Id}");
        Print($"parent {me.Parent ?? "none"}");
        Print($"attempt {me.Attempt}");
        var child = await chaqum.EnqueueAsync("init", ["identity-child"], new EnqueueOptions { Group = "ident-group", MaxProcs = 1 });
        await child.WaitAsync();
        return 0;
    }

    private Task<int> IdentityChild()
    {
        var me = chaqum.Identity;
        Print(System.Text.RegularExpressions.Regex.IsMatch(me.Id ?? "", @"^init/\d+$") ? "child ident ok" : $"child ident {me.Id}");
        Print($"child parent {me.Parent}");
        Print($"child group {me.Group}");
        Print($"child slot {me.Slot}");
        Print($"child attempt {me.Attempt}");
        return Task.FromResult(0);
    }

    private async Task<int> Delays()
    {
        var delayed = await chaqum.EnqueueAsync("exiter", ["0"], new EnqueueOptions { Delay = TimeSpan.FromSeconds(1) });
        Print($"delay {await delayed.WaitAsync()}");
        var past = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var at = await chaqum.EnqueueAsync("exiter", ["0"], new EnqueueOptions { At = past });
        Print($"at {await at.WaitAsync()}");
        var held = await chaqum.EnqueueAsync("exiter", ["0"], new EnqueueOptions { Held = true, Urgent = true, Requeue = true });
        Print($"held {await held.WaitAsync(TimeSpan.FromSeconds(0.2))}");
        Print($"held killed {await held.KillAsync()}");
        await PrintError(() => chaqum.EnqueueAsync("exiter", ["0"], new EnqueueOptions { Delay = TimeSpan.FromSeconds(6311520000) }));
        return 0;
    }

    private async Task<int> Options()
    {
        var keyed = new EnqueueOptions { Key = "conformance-key" };
        var first = await chaqum.EnqueueAsync("sleeper", ["1"], keyed);
        var second = await chaqum.EnqueueAsync("sleeper", ["1"], keyed);
        Print(first.Id == second.Id ? "key same" : $"key different: {first} {second}");
        await first.KillAsync();

        var failing = await chaqum.EnqueueAsync("exiter", ["1"]);
        var after = await chaqum.EnqueueAsync("exiter", ["0"], new EnqueueOptions { After = [failing.Id] });
        Print($"after {await after.WaitAsync()}");

        var slow = await chaqum.EnqueueAsync("sleeper", null, new EnqueueOptions { Timeout = TimeSpan.FromSeconds(0.3) });
        Print($"timeout {await slow.WaitAsync()}");

        var flaky = await chaqum.EnqueueAsync("flaky", null, new EnqueueOptions { Retries = 1 });
        Print($"retries {await flaky.WaitAsync()}");

        var grouped = await chaqum.EnqueueAsync("exiter", ["0"], new EnqueueOptions
        {
            Group = "opt-group", MaxProcs = 1, MaxLoad = 1000, MinMemory = "1K", Priority = 5,
        });
        Print($"group {await grouped.WaitAsync()}");

        // Polled with zero timeouts: a wait already in progress when a forgotten job ends
        // would still receive its status.
        var forgotten = await chaqum.EnqueueAsync("exiter", ["0"], new EnqueueOptions { Forget = true });
        var status = JobStatus.Pending;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(600);
        while (status == JobStatus.Pending && DateTime.UtcNow < deadline)
        {
            status = await forgotten.WaitAsync(TimeSpan.Zero);
            if (status == JobStatus.Pending) await Task.Delay(50);
        }
        Print($"forget {status}");
        return 0;
    }

    private async Task<int> Repeat()
    {
        var interval = await chaqum.RepeatEveryAsync(TimeSpan.FromSeconds(0.2), "counter", ["interval.txt"]);
        await UntilLines("interval.txt", 2);
        await interval.UnrepeatAsync();
        Print("interval fired");

        var cron = await chaqum.RepeatCronAsync("*/1 * * * * *", "counter", ["cron.txt"]);
        await UntilLines("cron.txt", 1);
        await cron.UnrepeatAsync();
        Print("cron fired");

        var zoned = await chaqum.RepeatCronAsync("*/1 * * * * *", "counter", ["zoned.txt"], new RepeatOptions { Zone = "Pacific/Chatham" });
        await UntilLines("zoned.txt", 1);
        await zoned.UnrepeatAsync();
        Print("zoned cron fired");
        await PrintError(() => chaqum.RepeatCronAsync("*/1 * * * * *", "counter", ["zoned.txt"], new RepeatOptions { Zone = "Mars/Olympus_Mons" }));
        Print("unrepeated");
        return 0;
    }

    private async Task<int> Triggers()
    {
        Directory.CreateDirectory("watched");
        var trigger = await chaqum.RepeatOnChangesAsync(["watched"], "init", ["triggers-child"], new RepeatOptions { Settle = TimeSpan.FromSeconds(0.1) });
        File.WriteAllText("watched/a.txt", "a\n");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(600);
        while (!(File.Exists("triggered.id") && new FileInfo("triggered.id").Length > 0))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the trigger did not fire");
            await Task.Delay(50);
        }
        await chaqum.GetJob(File.ReadAllText("triggered.id").Trim()).WaitAsync();
        await trigger.UnrepeatAsync();
        Print("trigger fired");

        await chaqum.ConfigureGroupAsync("brk", new GroupLimits { BreakAfter = 2 });
        var failing = new List<JobHandle>();
        for (int i = 0; i < 2; i++) failing.Add(await chaqum.EnqueueAsync("exiter", ["1"], new EnqueueOptions { Group = "brk" }));
        await chaqum.WaitAllAsync(failing);
        var held = await chaqum.EnqueueAsync("exiter", ["0"], new EnqueueOptions { Group = "brk" });
        Print($"breaker {await held.WaitAsync(TimeSpan.FromSeconds(0.2))}");
        Print($"killed {await held.KillAsync()}");

        await PrintError(() => chaqum.RepeatOnChangesAsync(["watched"], "counter", ["x.txt"], new RepeatOptions { Settle = TimeSpan.FromSeconds(-1) }));
        await PrintError(() => chaqum.ConfigureGroupAsync("brk", new GroupLimits { BreakAfter = -1 }));
        return 0;
    }

    private Task<int> TriggersChild()
    {
        var tree = chaqum.Identity.Tree + "/";
        var paths = ChaqumJob.ChangedPaths() ?? [];
        foreach (var path in paths) Print($"child changed {(path.StartsWith(tree, StringComparison.Ordinal) ? path[tree.Length..] : path)}");
        Print($"child count {paths.Count}");
        File.WriteAllText("triggered.id.tmp", chaqum.Identity.Id + "\n");
        File.Move("triggered.id.tmp", "triggered.id");
        return Task.FromResult(0);
    }

    private async Task<int> Plans()
    {
        var plan = await chaqum.SubmitPlanAsync(new JsonObject
        {
            ["type"] = "sequence_group",
            ["work"] = new JsonArray(
                new JsonObject { ["type"] = "execute", ["command"] = new JsonArray("counter", "plan.txt") },
                new JsonObject
                {
                    ["type"] = "parallel_group",
                    ["work"] = new JsonArray(
                        new JsonObject { ["type"] = "execute", ["command"] = new JsonArray("counter", "plan.txt") },
                        new JsonObject { ["type"] = "execute", ["command"] = "counter plan.txt" }),
                }),
        });
        if (System.Text.RegularExpressions.Regex.IsMatch(plan.Id, @"^plan/\d+$")) Print("plan id ok");
        Print($"plan {State(await plan.WaitAsync())}");
        Print($"plan steps {File.ReadAllLines("plan.txt").Length}");

        var slow = await chaqum.SubmitPlanAsync("""{"type": "sequence_group", "work": [{"type": "execute", "command": ["sleeper", "1"]}]}""");
        Print($"slow plan {State(await chaqum.WaitPlanAsync(slow.Id, TimeSpan.FromSeconds(0.2)))}");
        Print($"slow plan {State(await slow.WaitAsync())}");

        File.WriteAllText("failing.json",
            """{"type": "sequence_group", "work": [{"type": "execute", "command": ["exiter", "3"]}, {"type": "execute", "command": ["counter", "plan.txt"]}]}""" + "\n");
        var failing = await chaqum.SubmitPlanAsync(File.ReadAllBytes("failing.json"));
        Print($"failing plan {State(await failing.WaitAsync())}");
        Print($"plan steps {File.ReadAllLines("plan.txt").Length}");

        await PrintError(() => chaqum.SubmitPlanAsync(new JsonObject
        {
            ["type"] = "sequence_group",
            ["work"] = new JsonArray(
                new JsonObject { ["type"] = "execute", ["command"] = new JsonArray("exiter", "0") },
                new JsonObject { ["type"] = "teleport" }),
        }));
        await PrintError(() => chaqum.WaitPlanAsync("plan/999999"));
        return 0;
    }

    /// <summary>A plan state in the corpus's words: succeeded, failed, cancelled, running.</summary>
    private static string State(PlanState state) => state.ToString().ToLowerInvariant();

    private static async Task UntilLines(string file, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(File.Exists(file) && File.ReadAllLines(file).Length >= count))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{file} did not reach {count} lines");
            await Task.Delay(100);
        }
    }

    /// <summary>Run outside a daemon: Connect fails before this is reached.</summary>
    private async Task<int> Outside()
    {
        await chaqum.EnqueueAsync("exiter", ["0"]);
        return 0;
    }

    /// <summary>Not in the corpus: many tasks share the connection at once, each enqueuing
    /// and waiting for its own job; each must get its own job's status.</summary>
    private async Task<int> Concurrency()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(async n =>
        {
            var job = await chaqum.EnqueueAsync("exiter", [n.ToString()]);
            var status = await job.WaitAsync();
            return status.ExitCode == n;
        }));
        Print(results.All(ok => ok) ? "concurrent ok" : $"concurrent mixed up: {string.Join(",", results)}");
        return 0;
    }
}
