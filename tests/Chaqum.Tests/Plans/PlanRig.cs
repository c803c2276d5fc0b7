using System.Text.Json.Nodes;
using Chaqum.Tests.Control;

namespace Chaqum.Tests.Plans;

/// <summary>What the plan tests share: a tree of small scripts that write what they did
/// to a file ("order") and, for gated steps, wait for a file the test writes; submitting
/// through the real chaqumctl; waiting for a plan to end by asking plan show.</summary>
internal static class PlanRig
{
    /// <summary>mark NAME: notes NAME. fail NAME [CODE]: notes NAME, exits CODE (3).
    /// gate NAME: notes "start NAME", waits for go.NAME, notes NAME.</summary>
    public static void Scripts(TempTree tree)
    {
        tree.Script("mark", "echo \"$1\" >> order\n");
        tree.Script("fail", "echo \"$1\" >> order\nexit ${2:-3}\n");
        tree.Script("gate", "echo \"start $1\" >> order\nwhile [ ! -e \"go.$1\" ]; do sleep 0.05; done\necho \"$1\" >> order\n");
    }

    public static string Submit(TempTree tree, string document)
    {
        var r = Ctl.Run(tree, "plan", "submit", Write(tree, document));
        Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out.Trim(), Does.Match(@"^plan/\d+$"), r.ToString());
        return r.Out.Trim();
    }

    private static int _documents;

    /// <summary>The document in a file beside the tree (not in it: it is no script).</summary>
    public static string Write(TempTree tree, string document)
    {
        var path = tree.Root + $".plan{Interlocked.Increment(ref _documents)}.json";
        File.WriteAllText(path, document);
        return path;
    }

    public static JsonNode Show(TempTree tree, string id)
    {
        var r = Ctl.Run(tree, "plan", "show", "--json", id);
        Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
        return r.Json;
    }

    public static string State(JsonNode view) => view["state"]!.GetValue<string>();

    /// <summary>Waits until plan show says the plan has ended; returns what it says then.</summary>
    public static JsonNode Ended(TempTree tree, string id) =>
        Poll.Until(() => Show(tree, id) is var v && State(v) != "running" ? v : null, $"{id} to end");

    /// <summary>The node at a JSON path of the document ("$", "$.work[1]").</summary>
    public static JsonNode Node(JsonNode view, string path) =>
        view["nodes"]!.AsArray().First(n => n!["path"]!.GetValue<string>() == path)!;

    public static string NodeState(JsonNode view, string path) => Node(view, path)["state"]!.GetValue<string>();

    public static string[] Order(TempTree tree) =>
        tree.Exists("order") ? tree.Read("order").Split('\n', StringSplitOptions.RemoveEmptyEntries) : Array.Empty<string>();

    public static void Go(TempTree tree, string name) => File.WriteAllText(tree.PathOf("go." + name), "");

    public static void WaitStarted(TempTree tree, string name) =>
        Poll.Until(() => Order(tree).Contains("start " + name), $"step {name} to start");

    /// <summary>Ends the test daemon (its init waits for "stop").</summary>
    public static void Stop(TempTree tree, DaemonProcess d)
    {
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
    }

    public static string Exec(string words) => $$"""{"type": "execute", "command": "{{words}}"}""";
    public static string Seq(params string[] work) => $$"""{"type": "sequence_group", "work": [{{string.Join(", ", work)}}]}""";
    public static string Par(params string[] work) => $$"""{"type": "parallel_group", "work": [{{string.Join(", ", work)}}]}""";
}
