using System.CommandLine;

namespace Chaqumctl.Commands;

/// <summary>repeats [--json]: each repeat's schedule, next firing and last run.</summary>
public static class RepeatsCommand
{
    public static Command Build(Context context)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("repeats", "List repeats: schedule, next firing, last run") { json };
        command.SetAction(parsed =>
        {
            var repeats = context.Call("repeats")["repeats"]!.AsArray();
            if (parsed.GetValue(json)) { Format.Json(repeats); return Program.Ok; }
            Format.Table(new[] { "ID", "SCRIPT", "SCHEDULE", "ZONE", "NEXT", "LAST JOB", "LAST STATE", "FIRED", "SKIPPED" },
                repeats.Select(r => (IReadOnlyList<string>)new[]
                {
                    Format.Text(r!["id"]),
                    Format.Text(r["script"]),
                    Format.Text(r["schedule"]),
                    Format.Text(r["zone"]),
                    Format.When(r["next_at"]?.GetValue<string>()),
                    Format.Text(r["last_job"]),
                    r["last_status"] is { } s ? $"{Format.Text(r["last_state"])} ({Format.Text(s)})" : Format.Text(r["last_state"]),
                    Format.Text(r["fired"]),
                    Format.Text(r["skipped"]),
                }));
            return Program.Ok;
        });
        return command;
    }
}
