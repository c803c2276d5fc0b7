using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>unrepeat / disable / enable / trigger ID: what an operator does to a repeat
/// (ids as `chaqumctl repeats` lists them, e.g. repeat:3).</summary>
public static class RepeatActionCommands
{
    public static IEnumerable<Command> Build(Context context) => new[]
    {
        Make(context, ControlVerbs.Unrepeat, "Remove a repeat (a firing that runs goes on)"),
        Make(context, ControlVerbs.Disable, "Skip a repeat's firings, keeping its schedule (or watch), until enabled"),
        Make(context, ControlVerbs.Enable, "Let a disabled repeat fire again"),
        Make(context, ControlVerbs.Trigger, "Fire a repeat now, even if disabled; if its last firing still runs and it does not allow overlap, a clock repeat's firing is skipped (exit 1) and a file trigger's follows that run"),
    };

    private static Command Make(Context context, ControlVerb<RepeatArgs, RepeatActionResult> verb, string description)
    {
        var id = new Argument<string>("ID") { Description = "A repeat, as chaqumctl repeats lists it (repeat:N)" };
        var command = new Command(verb.Name, description) { id };
        command.SetAction(parsed =>
        {
            var result = context.Call(verb, new RepeatArgs { Id = parsed.GetValue(id) });
            string text = verb == ControlVerbs.Trigger
                ? result.Job is { } job ? $"{result.Id}: fired {job}"
                : result.Deferred ? $"{result.Id}: fires when the running firing ends ({result.NotFired})"
                : $"{result.Id}: not fired: {result.NotFired}"
                : $"{result.Id}: {result.State}";
            Console.Out.WriteLine(TerminalText.Escape(text));
            return result.Job is null && verb == ControlVerbs.Trigger && !result.Deferred ? Program.Failed : Program.Ok;
        });
        return command;
    }
}
