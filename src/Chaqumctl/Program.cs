using System.CommandLine;
using Chaqum.Control;
using Chaqumctl.Commands;

namespace Chaqumctl;

/// <summary>
/// chaqumctl: the operator's window into a running chaqum daemon.
///
/// Exit status: 0 success; 1 the request failed (unknown job, refused, nothing done);
/// 2 usage error; 3 no daemon reachable. `run` exits with the job's status instead
/// (128+N for death by signal N, 125 if it never ran, 130 when detached with Ctrl-C).
/// </summary>
public static class Program
{
    public const int Ok = 0, Failed = 1, Usage = 2, NoDaemon = 3;

    public static int Main(string[] args)
    {
        var context = new Context();
        var tree = new Option<string?>("--tree", "-t") { Description = "The job tree whose daemon to talk to", HelpName = "TREE" };
        var socket = new Option<string?>("--socket") { Description = "The daemon's control socket (default: from -t, or $CHAQUM_CONTROL inside a job)", HelpName = "PATH" };
        var stateDir = new Option<string?>("--state-dir") { Description = "The tree's state directory, for the history when no daemon runs", HelpName = "DIR" };

        var root = new RootCommand("chaqumctl: look inside a running chaqum daemon: what runs, for how long compared with usual, what it said; kill, pause, hold, reprioritise; disable, enable and trigger repeats; history.")
        {
            tree, socket, stateDir,
        };
        foreach (var command in Commands(context)) root.Add(command);

        // enqueue and run take protocol-style options (-g, -t TIMEOUT...) that must not be
        // mistaken for ours: everything after the subcommand goes to the daemon untouched.
        int sub = SubcommandIndex(args, root);
        if (sub >= 0 && args[sub] is "enqueue" or "run")
        {
            if (EnqueueCommands.AsksForHelp(args[(sub + 1)..])) return EnqueueCommands.PrintUsage(args[sub]);
            // Parse the global options with a stand-in subcommand: the rest is not ours.
            var globals = root.Parse(args[..sub].Append("groups").ToArray());
            if (globals.Errors.Count > 0) return UsageError(globals);
            return Guard(() =>
            {
                Apply(context, globals, tree, socket, stateDir);
                return EnqueueCommands.Run(context, args[sub], args[(sub + 1)..]);
            });
        }

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0) return UsageError(parsed);
        return Guard(() =>
        {
            Apply(context, parsed, tree, socket, stateDir);
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        });
    }

    private static void Apply(Context context, ParseResult parsed, Option<string?> tree, Option<string?> socket, Option<string?> stateDir)
    {
        context.Tree = parsed.GetValue(tree);
        context.Socket = parsed.GetValue(socket);
        context.StateDirOption = parsed.GetValue(stateDir);
    }

    private static IEnumerable<Command> Commands(Context c) => new[]
    {
        PsCommand.Build(c), ShowCommand.Build(c), TreeCommand.Build(c), LogCommand.Build(c),
        KillCommand.Build(c), PauseCommands.Build(c, pause: true), PauseCommands.Build(c, pause: false),
        PriorityCommands.Renice(c), PriorityCommands.Prio(c), GroupsCommand.Build(c), RepeatsCommand.Build(c),
        HistoryCommand.Build(c), StatsCommand.Build(c), KilllistCommand.Build(c),
        EnqueueCommands.Help("enqueue"), EnqueueCommands.Help("run"),
        SnapshotCommands.Snapshot(c), SnapshotCommands.Diff(c),
        HoldCommands.Hold(c), HoldCommands.Release(c), PlanCommands.Build(c),
    }.Concat(RepeatActionCommands.Build(c));

    /// <summary>Index of the subcommand word: the first word that is not a global option or its value.</summary>
    private static int SubcommandIndex(string[] args, RootCommand root)
    {
        var valued = root.Options.Where(o => o.Arity.MaximumNumberOfValues > 0 && o.ValueType != typeof(bool)).SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet();
        for (int i = 0; i < args.Length; i++)
        {
            if (valued.Contains(args[i])) { i++; continue; }
            if (args[i].StartsWith('-')) continue;
            return i;
        }
        return -1;
    }

    private static int UsageError(ParseResult parsed)
    {
        foreach (var e in parsed.Errors) Console.Error.WriteLine($"chaqumctl: {e.Message}");
        Console.Error.WriteLine("Try 'chaqumctl --help' for more information.");
        return Usage;
    }

    /// <summary>Every error becomes one sentence on stderr and an exit status, never a
    /// trace: daemon errors, usage errors, and what the machine says (a full disk, a
    /// missing directory, an unreadable file).</summary>
    public static int Guard(Func<int> action)
    {
        try { return action(); }
        catch (ChaqumctlException e)
        {
            Console.Error.WriteLine($"chaqumctl: {TerminalText.Escape(e.Message)}");
            return Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"chaqumctl: {TerminalText.Escape(Reason(e))}");
            return Failed;
        }
        catch (ControlUnavailableException e)
        {
            Console.Error.WriteLine($"chaqumctl: {TerminalText.Escape(e.Message)}");
            return NoDaemon;
        }
        catch (ControlFailedException e)
        {
            Console.Error.WriteLine($"chaqumctl: {TerminalText.Escape(e.Message)}");
            return Failed;
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"chaqumctl: {TerminalText.Escape(e.Message)}");
            return Usage;
        }
        // What the parser finds only when a value is asked for: "-t A -t B", "-n 1 -n 2".
        catch (InvalidOperationException e) when (e.Source == "System.CommandLine")
        {
            Console.Error.WriteLine($"chaqumctl: {TerminalText.Escape(e.Message)}");
            Console.Error.WriteLine("Try 'chaqumctl --help' for more information.");
            return Usage;
        }
    }

    /// <summary>What went wrong, as the system said it, without .NET's decoration.</summary>
    public static string Reason(Exception e) => e.Message.TrimEnd('.');
}

/// <summary>A mistake of the operator's: the message says what, exit status 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Something that could not be done (a file not written, a history not read):
/// the message says what, exit status 1.</summary>
public sealed class ChaqumctlException(string message) : Exception(message);
