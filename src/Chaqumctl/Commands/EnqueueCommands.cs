using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>
/// enqueue [OPTIONS] -- SCRIPT [ARG...]: enqueue a job of the tree, print its id.
/// run [OPTIONS] -- SCRIPT [ARG...]: the same, then stream its output and exit with its
/// status; Ctrl-C detaches (the job goes on) and says how to follow it.
/// OPTIONS are those of the job protocol's enqueue (-g GROUP, -t TIMEOUT, -p PRIO, ...).
/// </summary>
public static class EnqueueCommands
{
    private const string Usage = """
        Usage: chaqumctl [-t TREE] {0} [-F] [-g GROUP] [-m MAXPROC] [-c MAXCPU] [-l MAXLOAD] [-M MINMEM]
                         [-P MAXPRESSURE] [-B FAILURES] [-t TIMEOUT] [-p PRIO] [-k KEY] [-a JOBID]... [-r RETRIES]
                         [-d DELAY | -A TIME] [-H] [-U] [-R] [--] SCRIPT [ARG...]

        {1}

          -B N       the group pauses itself after N failed runs in a row (0: never)
          -d DELAY   start no sooner than DELAY from now (90s, 15m, 1h30m, 2d)
          -A TIME    start no sooner than TIME: HH:MM or HH:MM:SS (the next time the daemon's
                     clock shows it), or ISO 8601 (2026-12-24T18:00, with +01:00 or Z for an offset)
          -H         held: it does not start until `chaqumctl release ID`
          -U         urgent: ahead of every job waiting in its group, whatever its -p
          -R         if running when the daemon stops in order, run again after the restart

        The options are those of the job protocol's enqueue (see chaqum-protocol(7)); note that
        after the subcommand, -t is the job's TIMEOUT (the tree is given before it).
        """;

    /// <summary>Options of the protocol's enqueue that take a value (the word after them
    /// is not the script).</summary>
    private const string ValuedOptions = "gmclMPBtpkardA";

    /// <summary>Listed in chaqumctl --help; never invoked with arguments, since Main hands
    /// enqueue and run to <see cref="Run"/> or <see cref="PrintUsage"/> itself.</summary>
    public static Command Help(string name)
    {
        var words = new Argument<string[]>("OPTIONS-AND-SCRIPT") { Arity = ArgumentArity.ZeroOrMore };
        var command = new Command(name, name == "enqueue"
            ? "Enqueue a job of the tree (options as in the job protocol's enqueue); prints its id"
            : "Run a job of the tree: stream its output, exit with its status (Ctrl-C detaches)") { words };
        command.SetAction(_ => PrintUsage(name));
        return command;
    }

    public static int PrintUsage(string name)
    {
        Console.Out.WriteLine(string.Format(Usage, name, name == "enqueue"
            ? "Enqueues a job and prints its id."
            : "Enqueues a job, prints its output as it comes (stdout to stdout, stderr to stderr), and exits\nwith its status: its exit code, 128+N if signal N ended it, 125 if it never ran.\nCtrl-C detaches (the job goes on) and exits 130."));
        return Program.Ok;
    }

    /// <summary>-h or --help among our options, before the script: "run -- report --help"
    /// passes --help to the script.</summary>
    public static bool AsksForHelp(string[] words)
    {
        for (int i = 0; i < words.Length; i++)
        {
            string w = words[i];
            if (w is "-h" or "--help") return true;
            if (w == "--" || !w.StartsWith('-') || w.Length < 2) return false;
            // "-g G": skip the value; "-gG" carries it.
            if (w.Length == 2 && ValuedOptions.Contains(w[1])) i++;
        }
        return false;
    }

    public static int Run(Context context, string name, string[] words)
    {
        if (words.Length == 0) throw new UsageException($"{name}: missing SCRIPT (see chaqumctl {name} --help)");
        if (name == "enqueue")
        {
            Console.Out.WriteLine(Format.Text(context.Call(ControlVerbs.Enqueue, new EnqueueArgs { Words = words.ToList() }).Id));
            return Program.Ok;
        }

        // One request enqueues and follows, so not a line of a quick job is missed.
        var args = new EnqueueArgs { Words = words.ToList(), Follow = true };
        string? id = null;
        Console.CancelKeyPress += (_, e) =>
        {
            // Detach: the job goes on; only this viewer stops.
            Console.Error.WriteLine(id is null
                ? $"\nchaqumctl: detached before the daemon answered; see chaqumctl {Where(context)}ps"
                : $"\nchaqumctl: detached; {id} goes on. Follow it with: chaqumctl {Where(context)}log -f {id}");
            Console.Out.Flush();
            Environment.Exit(130);
        };
        var final = context.Call(ControlVerbs.Run, args, e =>
        {
            if (e.Enqueued is { } enqueued)
            {
                id = Format.Text(enqueued);
                Console.Error.WriteLine($"chaqumctl: {id} {Format.Text(e.State)}; Ctrl-C detaches");
                return;
            }
            if (e.Skipped is { } skipped)
            {
                Console.Error.WriteLine(LogCommand.SkippedMarker(skipped));
                return;
            }
            if (e.Line is not { } line) return;
            var writer = line.Stream == "err" ? Console.Error : Console.Out;
            writer.WriteLine(Format.Text(line.Text));
            writer.Flush();
        });
        return ExitStatus(final);
    }

    /// <summary>The job's exit code; 128+N for signal N; 125 when it never ran.</summary>
    public static int ExitStatus(LogEnd final)
    {
        if (final.ExitCode is { } code) return code;
        if (final.Signal is { } signal) return 128 + signal;
        return 125;
    }

    private static string Where(Context context) =>
        context.Socket is { } s ? $"--socket {s} " : context.Tree is { } t ? $"-t {t} " : "";
}
