using System.CommandLine;
using System.Text.Json.Nodes;

namespace Chaqumctl.Commands;

/// <summary>ps [-a] [-g GROUP] [--json]: the jobs, how long they run, how long they usually do.</summary>
public static class PsCommand
{
    public static readonly Option<bool> Json = new("--json") { Description = "Print JSON instead of a table" };

    public static Command Build(Context context)
    {
        var all = new Option<bool>("--all", "-a") { Description = "Also jobs that have ended but whose result the daemon still holds" };
        var group = new Option<string?>("--group", "-g") { Description = "Only jobs of this group", HelpName = "GROUP" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var command = new Command("ps", "List jobs: state, group, pid, start, runtime, usual runtime, and LONGER when a run takes longer than usual")
        {
            all, group, json,
        };
        command.SetAction(parsed =>
        {
            var args = new JsonObject { ["all"] = parsed.GetValue(all) };
            if (parsed.GetValue(group) is { } g) args["group"] = g;
            var jobs = context.Call("ps", args)["jobs"]!.AsArray();
            if (parsed.GetValue(json)) { Format.Json(jobs); return Program.Ok; }
            Print(jobs);
            return Program.Ok;
        });
        return command;
    }

    public static void Print(JsonArray jobs)
    {
        Format.Table(new[] { "ID", "STATE", "GROUP", "PID", "STARTED", "RUNTIME", "USUAL", "" },
            jobs.Select(j => (IReadOnlyList<string>)new[]
            {
                Format.Text(j!["id"]),
                Format.Text(j["state"]),
                Format.Text(j["group"]),
                Format.Text(j["pid"]),
                Format.When(j["started_at"]?.GetValue<string>()),
                Format.Duration(Format.Number(j["runtime_seconds"])),
                Format.Duration(Format.Number(j["usual_seconds"])),
                j["longer_than_usual"]?.GetValue<bool>() == true ? "LONGER" : "",
            }));
    }
}
