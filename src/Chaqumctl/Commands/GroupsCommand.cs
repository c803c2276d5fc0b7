using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>groups [--json]: limits, running, queued, and which barrier holds each group.</summary>
public static class GroupsCommand
{
    public static Command Build(Context context)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("groups", "List groups: limits, running and queued jobs, what holds them back (a group its failures paused says why)") { json };
        command.SetAction(parsed =>
        {
            var groups = context.Call(ControlVerbs.Groups).Groups;
            if (parsed.GetValue(json)) { Format.Json(groups, ControlJson.Indented.IReadOnlyListGroupInfo); return Program.Ok; }
            // RUNS ON only when some group runs elsewhere: a local tree keeps its table.
            bool remote = groups.Any(g => g.Executor is not null);
            var header = new List<string> { "GROUP", "MAX", "RUNNING", "QUEUED", "PAUSED", "BARRIERS", "HELD BY" };
            if (remote) header.Insert(5, "RUNS ON");
            Format.Table(header, groups.Select(g =>
                {
                    var row = new List<string>
                    {
                        g.Name ?? "(none)",
                        g.MaxProcs == 0 ? "-" : Format.Text(g.MaxProcs),
                        Format.Text(g.Running),
                        Format.Text(g.Queued),
                        g.PausedReason is { } why ? $"yes: {why}" : g.Paused ? "yes" : "no",
                        Format.Text(g.Barriers),
                        Format.Text(g.HeldBy),
                    };
                    if (remote) row.Insert(5, g.Executor is null ? "local"
                        : g.Executor + (g.ExecutorArgs is { Count: > 0 } args ? " " + Chaqum.Words.ShellWords.Join(args) : ""));
                    return (IReadOnlyList<string>)row;
                }));
            return Program.Ok;
        });
        return command;
    }
}
