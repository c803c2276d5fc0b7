using System.CommandLine;

namespace Chaqumctl.Commands;

/// <summary>groups [--json]: limits, running, queued, and which barrier holds each group.</summary>
public static class GroupsCommand
{
    public static Command Build(Context context)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("groups", "List groups: limits, running and queued jobs, what holds them back") { json };
        command.SetAction(parsed =>
        {
            var groups = context.Call("groups")["groups"]!.AsArray();
            if (parsed.GetValue(json)) { Format.Json(groups); return Program.Ok; }
            Format.Table(new[] { "GROUP", "MAX", "RUNNING", "QUEUED", "PAUSED", "BARRIERS", "HELD BY" },
                groups.Select(g => (IReadOnlyList<string>)new[]
                {
                    g!["name"] is null ? "(none)" : Format.Text(g["name"]),
                    g["max_procs"]!.GetValue<int>() == 0 ? "-" : Format.Text(g["max_procs"]),
                    Format.Text(g["running"]),
                    Format.Text(g["queued"]),
                    g["paused"]!.GetValue<bool>() ? "yes" : "no",
                    Format.Text(g["barriers"]),
                    Format.Text(g["held_by"]),
                }));
            return Program.Ok;
        });
        return command;
    }
}
