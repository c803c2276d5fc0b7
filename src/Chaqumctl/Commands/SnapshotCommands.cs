using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>snapshot [-o FILE]: all state as JSON. diff A B: what appeared, finished or
/// changed state between two snapshots.</summary>
public static class SnapshotCommands
{
    public static Command Snapshot(Context context)
    {
        var output = new Option<string?>("--output", "-o") { Description = "Write to FILE instead of stdout", HelpName = "FILE" };
        var command = new Command("snapshot", "Print all of the daemon's state as JSON (to compare later with diff)") { output };
        command.SetAction(parsed =>
        {
            var snapshot = context.Call(ControlVerbs.Snapshot);
            var text = JsonSerializer.Serialize(snapshot, ControlJson.Indented.Snapshot);
            if (parsed.GetValue(output) is not { } file)
            {
                Console.Out.WriteLine(text);
                return Program.Ok;
            }
            // Written in place (it may be a device or a pipe, not only a file): a missing
            // directory or a full disk is said in a sentence.
            try { File.WriteAllText(file, text + "\n"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ChaqumctlException($"snapshot: cannot write {file}: {Program.Reason(e)}");
            }
            return Program.Ok;
        });
        return command;
    }

    public static Command Diff(Context context)
    {
        var a = new Argument<string>("A") { Description = "The earlier snapshot file" };
        var b = new Argument<string>("B") { Description = "The later snapshot file" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("diff", "Compare two snapshots: jobs that appeared (+), finished or vanished (-), changed state (~)") { a, b, json };
        command.SetAction(parsed =>
        {
            var before = Load(parsed.GetValue(a)!);
            var after = Load(parsed.GetValue(b)!);
            var changes = Compare(before, after);
            if (parsed.GetValue(json)) { Format.Json(changes); return Program.Ok; }
            foreach (var c in changes)
            {
                string kind = Format.Text(c!["change"]);
                string mark = kind switch { "appeared" => "+", "finished" => "-", "vanished" => "-", _ => "~" };
                string detail = kind switch
                {
                    "appeared" => Format.Text(c["state"]),
                    "finished" => $"{Format.Text(c["from"])} -> {Format.Text(c["state"])} ({Format.Text(c["status"])})",
                    "vanished" => $"{Format.Text(c["from"])} -> gone",
                    _ => $"{Format.Text(c["from"])} -> {Format.Text(c["state"])}",
                };
                Console.Out.WriteLine($"{mark} {Format.Text(c["id"])}  {detail}");
            }
            return Program.Ok;
        });
        return command;
    }

    private static Dictionary<string, JsonNode> Load(string file)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(file)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { throw new UsageException($"{file}: {e.Message}"); }
        if (node is not JsonObject { } snapshot || snapshot["jobs"] is not JsonArray jobs)
            throw new UsageException($"{file}: not a chaqumctl snapshot");
        var byId = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var job in jobs.OfType<JsonObject>())
            if (job["id"] is JsonValue id && id.TryGetValue<string>(out var key)) byId[key] = job;
        return byId;
    }

    public static JsonArray Compare(Dictionary<string, JsonNode> before, Dictionary<string, JsonNode> after)
    {
        var changes = new JsonArray();
        foreach (var (id, job) in after)
        {
            string state = Format.Text(job["state"]);
            if (!before.TryGetValue(id, out var old))
            {
                // Added as JsonNode: JsonArray.Add<T> would serialise by reflection, which NativeAOT cannot compile.
                changes.Add((JsonNode)new JsonObject { ["id"] = id, ["change"] = "appeared", ["state"] = state });
                continue;
            }
            string was = Format.Text(old["state"]);
            if (was == state) continue;
            bool ended = state is "done" or "cancelled";
            changes.Add((JsonNode)new JsonObject
            {
                ["id"] = id, ["change"] = ended ? "finished" : "changed", ["from"] = was, ["state"] = state,
                ["status"] = job["status"]?.DeepClone(),
            });
        }
        foreach (var (id, old) in before)
            if (!after.ContainsKey(id))
                changes.Add((JsonNode)new JsonObject { ["id"] = id, ["change"] = "vanished", ["from"] = Format.Text(old["state"]) });
        return changes;
    }
}
