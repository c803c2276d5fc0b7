using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>hold ID / release ID: keep a job that has not started from starting, and let it go.</summary>
public static class HoldCommands
{
    public static Command Hold(Context context) => Build(context, ControlVerbs.Hold,
        "A job that has not started (pending, scheduled, queued, retrying)",
        "Hold a job that has not started: it keeps its place but does not start until released");

    public static Command Release(Context context) => Build(context, ControlVerbs.Release,
        "A held job",
        "Release a held job: it starts when its group, due time and dependencies allow");

    private static Command Build(Context context, ControlVerb<HoldArgs, HoldResult> verb, string what, string description)
    {
        var id = new Argument<string>("ID") { Description = what };
        var command = new Command(verb.Name, description) { id };
        command.SetAction(parsed =>
        {
            var result = context.Call(verb, new HoldArgs { Id = parsed.GetValue(id) });
            Console.Out.WriteLine($"{Format.Text(result.Id)}: {Format.Text(result.State)}");
            return Program.Ok;
        });
        return command;
    }
}
