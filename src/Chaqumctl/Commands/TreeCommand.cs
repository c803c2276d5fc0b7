using System.CommandLine;
using System.Text.Json.Nodes;

namespace Chaqumctl.Commands;

/// <summary>tree [--json]: the job hierarchy, parent to child, with states.</summary>
public static class TreeCommand
{
    public static Command Build(Context context)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("tree", "Show the job hierarchy, parent to child, with states") { json };
        command.SetAction(parsed =>
        {
            var jobs = context.Call("ps", new JsonObject { ["all"] = true })["jobs"]!.AsArray();
            if (parsed.GetValue(json)) { Format.Json(Nest(jobs)); return Program.Ok; }
            var byParent = jobs.GroupBy(j => Format.Text(j!["parent"])).ToDictionary(g => g.Key, g => g.ToList());
            var ids = jobs.Select(j => Format.Text(j!["id"])).ToHashSet();
            // Roots: no parent, or a parent the daemon no longer holds.
            foreach (var job in jobs.Where(j => j!["parent"] is null || !ids.Contains(Format.Text(j["parent"]))))
                Print(job!, byParent, "");
            return Program.Ok;
        });
        return command;
    }

    private static void Print(JsonNode job, Dictionary<string, List<JsonNode?>> byParent, string indent)
    {
        string flag = job["longer_than_usual"]?.GetValue<bool>() == true ? "  LONGER" : "";
        string status = job["status"] is { } s ? $" ({Format.Text(s)})" : "";
        Console.Out.WriteLine($"{indent}{Format.Text(job["id"])}  {Format.Text(job["state"])}{status}{flag}");
        if (byParent.TryGetValue(Format.Text(job["id"]), out var children))
            foreach (var child in children) Print(child!, byParent, indent + "  ");
    }

    private static JsonArray Nest(JsonArray jobs)
    {
        var nodes = jobs.ToDictionary(j => Format.Text(j!["id"]), j => (JsonObject)j!.DeepClone());
        var roots = new JsonArray();
        foreach (var job in nodes.Values)
        {
            job["children"] ??= new JsonArray();
            var parent = Format.Text(job["parent"]);
            if (nodes.TryGetValue(parent, out var p))
            {
                p["children"] ??= new JsonArray();
                p["children"]!.AsArray().Add(job);
            }
            else roots.Add(job);
        }
        return roots;
    }
}
