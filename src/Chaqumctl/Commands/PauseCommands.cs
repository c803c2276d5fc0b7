using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>pause / resume GROUP|ID|--all: a paused group starts nothing new; a paused job's
/// process group gets SIGSTOP (and SIGCONT on resume). "-" names the ungrouped jobs.</summary>
public static class PauseCommands
{
    public static Command Build(Context context, bool pause)
    {
        var verb = pause ? ControlVerbs.Pause : ControlVerbs.Resume;
        var target = new Argument<string?>("TARGET") { Description = "A group ('-' for the ungrouped jobs), or a running job's id", Arity = ArgumentArity.ZeroOrOne };
        var group = new Option<bool>("--group", "-g") { Description = "TARGET is a group even if a job has that id" };
        var all = new Option<bool>("--all") { Description = pause
            ? "Every group, the ungrouped jobs and groups made later included"
            : "Every group, the ungrouped jobs included" };
        var command = new Command(verb.Name, pause
            ? "Pause a group (it starts nothing new), every group (--all) or a running job (SIGSTOP to its process group)"
            : "Resume a paused group, every group (--all) or a paused job") { target, group, all };
        command.SetAction(parsed =>
        {
            bool every = parsed.GetValue(all);
            var name = parsed.GetValue(target);
            if (every == (name is not null))
                throw new UsageException($"{verb.Name}: give a group or job, or --all");
            var result = context.Call(verb, new PauseArgs { Target = name, Group = parsed.GetValue(group), All = every });
            Console.Out.WriteLine(TerminalText.Escape(result.Job is { } job
                ? $"{job}: {result.State}"
                : every ? $"all groups: {(result.Paused == true ? "paused" : "resumed")}"
                : $"group {result.Group}: {(result.Paused == true ? "paused" : "resumed")}"));
            return Program.Ok;
        });
        return command;
    }
}
