using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>repeats [--json]: each repeat's schedule, next firing and last run.</summary>
public static class RepeatsCommand
{
    public static Command Build(Context context)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("repeats", "List repeats: schedule or watched directories, state, next firing, last run") { json };
        command.SetAction(parsed =>
        {
            var repeats = context.Call(ControlVerbs.Repeats).Repeats;
            if (parsed.GetValue(json)) { Format.Json(repeats, ControlJson.Indented.IReadOnlyListRepeatInfo); return Program.Ok; }
            Format.Table(new[] { "ID", "SCRIPT", "SCHEDULE", "ZONE", "STATE", "NEXT", "LAST JOB", "LAST STATE", "FIRED", "SKIPPED" },
                repeats.Select(r => (IReadOnlyList<string>)new[]
                {
                    r.Id,
                    r.Script,
                    r.Schedule,
                    Format.Text(r.Zone),
                    r.Disabled ? "disabled" : "enabled",
                    r.Watch is not null ? (r.PendingChanges is > 0 and var n ? $"{n} changes waiting" : "on change") : Format.When(r.NextAt),
                    Format.Text(r.LastJob),
                    r.LastStatus is { } s ? $"{r.LastState} ({s})" : Format.Text(r.LastState),
                    Format.Text(r.Fired),
                    Format.Text(r.Skipped),
                }));
            return Program.Ok;
        });
        return command;
    }
}
