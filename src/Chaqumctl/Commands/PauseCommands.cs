using System.CommandLine;
using System.Text.Json.Nodes;

namespace Chaqumctl.Commands;

/// <summary>pause / resume GROUP|ID: a paused group starts nothing new; a paused job's
/// process group gets SIGSTOP (and SIGCONT on resume).</summary>
public static class PauseCommands
{
    public static Command Build(Context context, bool pause)
    {
        string name = pause ? "pause" : "resume";
        var target = new Argument<string>("TARGET") { Description = "A group, or a running job's id" };
        var group = new Option<bool>("--group", "-g") { Description = "TARGET is a group even if a job has that id" };
        var command = new Command(name, pause
            ? "Pause a group (it starts nothing new) or a running job (SIGSTOP to its process group)"
            : "Resume a paused group or job") { target, group };
        command.SetAction(parsed =>
        {
            var result = context.Call(name, new JsonObject { ["target"] = parsed.GetValue(target), ["group"] = parsed.GetValue(group) });
            if (result["job"] is { } job) Console.Out.WriteLine($"{Format.Text(job)}: {Format.Text(result["state"])}");
            else Console.Out.WriteLine($"group {Format.Text(result["group"])}: {(result["paused"]!.GetValue<bool>() ? "paused" : "resumed")}");
            return Program.Ok;
        });
        return command;
    }
}
