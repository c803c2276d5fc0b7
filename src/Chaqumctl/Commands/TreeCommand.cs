using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chaqum.Control.Messages;

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
            var jobs = context.Call(ControlVerbs.Ps, new PsArgs { All = true }).Jobs;
            if (parsed.GetValue(json)) { Format.Json(Nest(jobs)); return Program.Ok; }
            var byParent = jobs.GroupBy(j => j.Parent ?? "").ToDictionary(g => g.Key, g => g.ToList());
            var ids = jobs.Select(j => j.Id).ToHashSet();
            // Roots: no parent, or a parent the daemon no longer holds.
            foreach (var job in jobs.Where(j => j.Parent is null || !ids.Contains(j.Parent)))
                Print(job, byParent, "");
            return Program.Ok;
        });
        return command;
    }

    private static void Print(JobInfo job, Dictionary<string, List<JobInfo>> byParent, string indent)
    {
        string flag = job.LongerThanUsual ? "  LONGER" : "";
        string status = job.Status is { } s ? $" ({s})" : "";
        Console.Out.WriteLine(TerminalText.Escape($"{indent}{job.Id}  {job.State}{status}{flag}"));
        if (byParent.TryGetValue(job.Id, out var children))
            foreach (var child in children) Print(child, byParent, indent + "  ");
    }

    /// <summary>Job objects, each with a children array of job objects.</summary>
    private static JsonArray Nest(IReadOnlyList<JobInfo> jobs)
    {
        var nodes = jobs.ToDictionary(j => j.Id, j => JsonSerializer.SerializeToNode(j, ControlJson.Default.JobInfo)!);
        var roots = new JsonArray();
        foreach (var job in jobs)
        {
            var node = nodes[job.Id];
            node["children"] ??= new JsonArray();
            if (job.Parent is { } parent && nodes.TryGetValue(parent, out var p))
            {
                p["children"] ??= new JsonArray();
                p["children"]!.AsArray().Add(node);
            }
            else roots.Add(node);
        }
        return roots;
    }
}
