using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>kill ID... | -g GROUP [-s SIG] [--yes]: kill jobs (or every unfinished job of a
/// group) as the operator. When other jobs wait on or depend on a target, they are shown
/// and confirmation is asked; without a terminal, only --yes goes ahead.</summary>
public static class KillCommand
{
    public static Command Build(Context context)
    {
        var ids = new Argument<string[]>("ID") { Description = "Jobs to kill", Arity = ArgumentArity.ZeroOrMore };
        var group = new Option<string?>("--group", "-g") { Description = "Kill every job of GROUP: queued ones are cancelled, running ones signalled", HelpName = "GROUP" };
        var signal = new Option<string>("--signal", "-s") { Description = "Signal to send first (SIGKILL follows after the daemon's grace)", DefaultValueFactory = _ => "TERM" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask, even when other jobs wait on a target" };
        var command = new Command("kill", "Kill jobs, or a whole group with -g (queued ones are cancelled); asks first when other jobs wait on or depend on them") { ids, group, signal, yes };
        command.SetAction(parsed =>
        {
            var targets = parsed.GetValue(ids)!;
            if (parsed.GetValue(group) is { } name)
            {
                if (targets.Length > 0) throw new UsageException("kill takes job ids or -g GROUP, not both");
                return KillGroup(context, name, parsed.GetValue(signal)!, parsed.GetValue(yes));
            }
            if (targets.Length == 0) throw new UsageException("kill needs job ids or -g GROUP");
            if (!parsed.GetValue(yes) && !Confirm(context, targets)) return Program.Failed;
            Kill(context, targets, parsed.GetValue(signal)!);
            return Program.Ok;
        });
        return command;
    }

    /// <summary>True when nobody depends on the targets, or the operator says yes.</summary>
    public static bool Confirm(Context context, IEnumerable<string> targets)
    {
        var concerns = new List<string>();
        foreach (var id in targets)
        {
            var job = context.Call(ControlVerbs.Show, new ShowArgs { Id = id, Lines = 0 }).Job;
            var waiters = job.WaitedOnBy;
            var dependents = job.Dependents;
            if (waiters.Count > 0) concerns.Add($"{id} is waited on by {string.Join(", ", waiters)}");
            if (dependents.Count > 0) concerns.Add($"{id} must succeed before {string.Join(", ", dependents)} can start (they will end with N)");
        }
        return Ask(concerns);
    }

    /// <summary>Shows the concerns and asks; true when there are none or the answer is yes.</summary>
    private static bool Ask(IReadOnlyList<string> concerns)
    {
        if (concerns.Count == 0) return true;
        foreach (var c in concerns) Console.Error.WriteLine($"chaqumctl: {TerminalText.Escape(c)}");
        if (Console.IsInputRedirected)
        {
            Console.Error.WriteLine("chaqumctl: not killing without confirmation; use --yes");
            return false;
        }
        Console.Error.Write("Kill anyway? [y/N] ");
        var answer = Console.ReadLine()?.Trim().ToLowerInvariant();
        return answer is "y" or "yes";
    }

    /// <summary>kill -g: the daemon says who would be surprised (jobs outside the group
    /// waiting on its jobs); ask about them as for ids, then kill the group.</summary>
    private static int KillGroup(Context context, string group, string signal, bool yes)
    {
        if (!yes)
        {
            var preview = context.Call(ControlVerbs.Kill, new KillArgs { Group = group, Signal = signal, Preview = true });
            if (!Ask(preview.Concerns ?? [])) return Program.Failed;
        }
        var result = context.Call(ControlVerbs.Kill, new KillArgs { Group = group, Signal = signal });
        if (result.Killed.Count == 0) Console.Out.WriteLine(TerminalText.Escape($"group {group}: no job left to kill"));
        Print(result);
        return Program.Ok;
    }

    public static void Kill(Context context, IEnumerable<string> targets, string signal) =>
        Print(context.Call(ControlVerbs.Kill, new KillArgs { Ids = targets.ToList(), Signal = signal }));

    private static void Print(KillResult result)
    {
        foreach (var k in result.Killed)
        {
            string what = k.Was is "running" or "paused" or "stopped" ? $"sent {result.Signal}" : k.Was is "done" or "cancelled" ? "had already ended" : "cancelled";
            Console.Out.WriteLine(TerminalText.Escape($"{k.Id}: {what}"));
        }
    }
}
