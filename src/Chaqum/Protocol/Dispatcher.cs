using Chaqum.Client;
using Microsoft.Extensions.Logging;

namespace Chaqum.Protocol;

/// <summary>Splits a command line into words, finds the verb, parses its options and
/// hands it to the command. Every failure on the way is an "E reason" reply.</summary>
public sealed class Dispatcher
{
    private readonly Dictionary<string, ICommand> _commands = new(StringComparer.Ordinal);
    private readonly ILogger _log;

    public Dispatcher(IEnumerable<ICommand> commands, ILogger log)
    {
        foreach (var c in commands) _commands[c.Verb] = c;
        _log = log;
    }

    public IEnumerable<string> Verbs => _commands.Keys;

    public void Dispatch(JobConnection connection, string line)
    {
        var words = new List<string>();
        if (!ShellWords.TrySplit(line, words, out var error))
        {
            Refuse(connection, line, $"malformed quoting: {error}");
            return;
        }
        if (words.Count == 0)
        {
            Refuse(connection, line, "empty command");
            return;
        }
        if (words.Exists(w => w.Contains('\0')))
        {
            // Arguments, names and keys all end up as C strings (argv, paths, logs), where a
            // NUL would silently cut them short; refuse rather than run something else.
            Refuse(connection, line, "a word contains a NUL byte");
            return;
        }
        if (!_commands.TryGetValue(words[0], out var command))
        {
            Refuse(connection, line, $"unknown command '{words[0]}'");
            return;
        }
        var options = OptionParser.Parse(words, 1, command.OptionSpec, out error);
        if (options is null)
        {
            Refuse(connection, line, $"{command.Verb}: {error}");
            return;
        }

        var call = new CommandCall(connection, command.Verb, line, options);
        if (command is ICommandWithPayload withPayload)
        {
            long length;
            string? refusal;
            try { length = withPayload.PayloadLength(call, out refusal); }
            catch (ProtocolException e)
            {
                Refuse(connection, line, $"{command.Verb}: {e.Message}");
                return;
            }
            connection.ExpectPayload(call, length, refusal is null ? null : $"{command.Verb}: {refusal}");
            return;
        }

        connection.Begin(call);
        Run(call, command, null);
    }

    internal void RunWithPayload(CommandCall call, byte[] payload)
    {
        var command = (ICommandWithPayload)_commands[call.Verb];
        call.Connection.Begin(call);
        Run(call, command, payload);
    }

    /// <summary>Runs the command (with its payload, for one that takes one); every
    /// failure becomes the call's refusal.</summary>
    private void Run(CommandCall call, ICommand command, byte[]? payload)
    {
        try
        {
            if (payload is null) command.Run(call);
            else ((ICommandWithPayload)command).Run(call, payload);
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

    private static void Refuse(JobConnection connection, string line, string reason) =>
        connection.Refuse(System.Text.Encoding.UTF8.GetBytes(line), reason);
}
