using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>renice ID N (a running job's process group) and prio ID N (a queued job's place).</summary>
public static class PriorityCommands
{
    public static Command Renice(Context context)
    {
        var id = new Argument<string>("ID") { Description = "A running job" };
        var nice = new Argument<int>("N") { Description = "Nice value, -20 (most favoured) to 19" };
        var command = new Command("renice", "Set the nice value of a running job's whole process group") { id, nice };
        command.SetAction(parsed =>
        {
            var result = context.Call(ControlVerbs.Renice, new ReniceArgs { Id = parsed.GetValue(id), Nice = parsed.GetValue(nice) });
            Console.Out.WriteLine($"{Format.Text(result.Id)}: nice {result.Nice}");
            return Program.Ok;
        });
        return command;
    }

    public static Command Prio(Context context)
    {
        var id = new Argument<string>("ID") { Description = "A job that has not started yet" };
        var priority = new Argument<int>("N") { Description = "New priority in its group (higher starts first)" };
        var command = new Command("prio", "Move a queued job within its group's queue") { id, priority };
        command.SetAction(parsed =>
        {
            var result = context.Call(ControlVerbs.Prio, new PrioArgs { Id = parsed.GetValue(id), Priority = parsed.GetValue(priority) });
            Console.Out.WriteLine($"{Format.Text(result.Id)}: priority {result.Priority}");
            return Program.Ok;
        });
        return command;
    }
}
