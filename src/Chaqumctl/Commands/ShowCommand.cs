using System.CommandLine;
using System.Text.Json.Nodes;

namespace Chaqumctl.Commands;

/// <summary>show ID [-n N] [--json]: everything known about one job.</summary>
public static class ShowCommand
{
    public static Command Build(Context context)
    {
        var id = new Argument<string>("ID") { Description = "The job" };
        var lines = new Option<int>("--lines", "-n") { Description = "How many of its last output lines", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("show", "Show a job: command, parents, children, who waits on it, CPU and memory, last output") { id, lines, json };
        command.SetAction(parsed =>
        {
            var job = context.Call("show", new JsonObject { ["id"] = parsed.GetValue(id), ["lines"] = parsed.GetValue(lines) })["job"]!;
            if (parsed.GetValue(json)) { Format.Json(job); return Program.Ok; }
            Print(job);
            return Program.Ok;
        });
        return command;
    }

    private static void Print(JsonNode job)
    {
        void Row(string label, string value) => Console.Out.WriteLine($"{label,-12} {value}");
        string List(string key) => job[key] is JsonArray a && a.Count > 0 ? string.Join(", ", a.Select(Format.Text)) : "-";

        Row("id", Format.Text(job["id"]));
        Row("command", Format.Text(job["command"]));
        Row("state", Format.Text(job["state"]) + (job["status"] is { } s ? $" (status {Format.Text(s)}, {Format.Text(job["outcome"])})" : ""));
        if (job["end_reason"] is { } reason) Row("ended", Format.Text(reason));
        Row("group", Format.Text(job["group"]) + (job["slot"] is { } slot ? $", slot {slot}" : ""));
        Row("pid", Format.Text(job["pid"]) + (job["processes"] is { } p ? $" ({p} processes in its group)" : ""));
        Row("attempt", $"{Format.Text(job["attempt"])} (retries {Format.Text(job["retries"])})");
        Row("priority", Format.Text(job["priority"]));
        if (job["timeout_seconds"] is { } t) Row("timeout", Format.Duration(Format.Number(t)));
        if (job["key"] is { } k) Row("key", Format.Text(k));
        Row("enqueued", Format.When(job["enqueued_at"]?.GetValue<string>()));
        Row("started", Format.When(job["started_at"]?.GetValue<string>()));
        string usual = Format.Duration(Format.Number(job["usual_seconds"]));
        Row("runtime", $"{Format.Duration(Format.Number(job["runtime_seconds"]))} (usually {usual} over {Format.Text(job["usual_runs"])} runs)"
            + (job["longer_than_usual"]?.GetValue<bool>() == true ? "  LONGER than usual" : ""));
        if (job["cpu_seconds"] is { } cpu) Row("cpu", Format.Duration(Format.Number(cpu)));
        if (job["rss_bytes"] is { } rss) Row("memory", Format.Size((long?)Format.Number(rss)));
        if (job["max_rss_bytes"] is { } maxRss) Row("max memory", Format.Size((long?)Format.Number(maxRss)));
        Row("parents", List("parents"));
        Row("children", job["children"] is JsonArray c && c.Count > 0
            ? string.Join(", ", c.Select(x => $"{Format.Text(x!["id"])} ({Format.Text(x["state"])})")) : "-");
        Row("waited on by", List("waited_on_by"));
        Row("dependents", List("dependents"));
        if (job["repeat"] is { } r) Row("repeat", Format.Text(r));
        Console.Out.WriteLine("output:");
        foreach (var line in job["output"]!.AsArray()) LogCommand.PrintLine(line!);
    }
}
