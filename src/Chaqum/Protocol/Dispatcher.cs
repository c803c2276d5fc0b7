using Chaqum.Words;
using Microsoft.Extensions.Logging;

namespace Chaqum.Protocol;

/// <summary>Splits a command line into words, finds the verb and parses its options into
/// a call of that command; runs calls. Every failure on the way is the call's refusal.</summary>
public sealed class Dispatcher
{
    private readonly Dictionary<string, ICommand> _commands = new(StringComparer.Ordinal);
    private readonly ILogger _log;

    public Dispatcher(IEnumerable<ICommand> commands, ILogger log)
    {
        foreach (var c in commands) _commands[c.Verb] = c;
        _log = log;
    }

    /// <summary>Turns a command line into a call of its command, or into the reason it is
    /// refused. Runs nothing: the connection decides when (after the body, for sendmsg).</summary>
    public DispatchedLine Dispatch(IReplyChannel caller, string line)
    {
        var words = new List<string>();
        if (!ShellWords.TrySplit(line, words, out var error))
            return DispatchedLine.Refused($"malformed quoting: {error}");
        if (words.Count == 0)
            return DispatchedLine.Refused("empty command");
        if (words.Exists(w => w.Contains('\0')))
        {
            // Arguments, names and keys all end up as C strings (argv, paths, logs), where a
            // NUL would silently cut them short; refuse rather than run something else.
            return DispatchedLine.Refused("a word contains a NUL byte");
        }
        if (!_commands.TryGetValue(words[0], out var command))
            return DispatchedLine.Refused($"unknown command '{words[0]}'");
        var options = OptionParser.Parse(words, 1, command.OptionSpec, out error, command.LongOptions);
        if (options is null)
            return DispatchedLine.Refused($"{command.Verb}: {error}");

        var call = new CommandCall(caller, command, line, options);
        if (command is not ICommandWithPayload withPayload) return new DispatchedLine(call, null, null);
        long length;
        string? refusal;
        try { length = withPayload.PayloadLength(call, out refusal); }
        catch (ProtocolException e)
        {
            return DispatchedLine.Refused($"{command.Verb}: {e.Message}");
        }
        call.PayloadRefusal = refusal is null ? null : $"{command.Verb}: {refusal}";
        return new DispatchedLine(call, null, length);
    }

    /// <summary>Runs the command (with its payload, for one that takes one); every
    /// failure becomes the call's refusal.</summary>
    public void Run(CommandCall call, byte[]? payload = null)
    {
        try
        {
            if (payload is null) call.Command.Run(call);
            else ((ICommandWithPayload)call.Command).Run(call, payload);
        }
        catch (ProtocolException e)
        {
            call.Refuse($"{call.Verb}: {e.Message}");
        }
        catch (Scheduling.SchedulingException e)
        {
            call.Refuse($"{call.Verb}: {e.Message}");
        }
        catch (Exception e)
        {
            // A bug, but the job still gets its one reply and the daemon goes on.
            _log.LogError(e, "{Job}: internal error handling '{Line}'", call.Caller.Id, call.Line);
            call.Refuse($"{call.Verb}: internal error: {e.Message}");
        }
    }
}

/// <summary>What a command line turned out to be: a call to run now, a call whose body
/// (<see cref="PayloadLength"/> bytes and a LF) is to be read first, or a refusal.</summary>
public readonly record struct DispatchedLine(CommandCall? Call, string? Refusal, long? PayloadLength)
{
    public static DispatchedLine Refused(string reason) => new(null, reason, null);
}
