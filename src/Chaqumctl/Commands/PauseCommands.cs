using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>pause / resume GROUP|ID: a paused group starts nothing new; a paused job's
/// process group gets SIGSTOP (and SIGCONT on resume).</summary>
public static class PauseCommands
{
    public static Command Build(Context context, bool pause)
    {
        var verb = pause ? ControlVerbs.Pause : ControlVerbs.Resume;
        var target = new Argument<string>("TARGET") { Description = "A group, or a running job's id" };
        var group = new Option<bool>("--group", "-g") { Description = "TARGET is a group even if a job has that id" };
        var command = new Command(verb.Name, pause
            ? "Pause a group (it starts nothing new) or a running job (SIGSTOP to its process group)"
            : "Resume a paused group or job") { target, group };
        command.SetAction(parsed =>
        {
            var result = context.Call(verb, new PauseArgs { Target = parsed.GetValue(target), Group = parsed.GetValue(group) });
            Console.Out.WriteLine(TerminalText.Escape(result.Job is { } job
                ? $"{job}: {result.State}"
                : $"group {result.Group}: {(result.Paused == true ? "paused" : "resumed")}"));
            return Program.Ok;
        });
        return command;
    }
}
