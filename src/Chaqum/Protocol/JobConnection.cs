using System.Text;
using Chaqum.EventLoop;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Mono.Unix.Native;

namespace Chaqum.Protocol;

/// <summary>Opens the protocol on a started job's command pipe (its fd 3) and reply pipe
/// (its fd 4): how the process side hands a job's pipes over without knowing the
/// dispatcher behind them.</summary>
public delegate JobConnection OpenConnection(Job job, int cmdFd, int replyFd);

/// <summary>
/// One job's end of the protocol: commands read from the job's fd 3 by a
/// <see cref="CommandReader"/>, replies written to its fd 4 by a <see cref="ReplyWriter"/>.
/// Commands are handled strictly one at a time, in order: while one is in progress (a
/// wait, say) nothing more is taken, so the pipe itself holds later commands and applies
/// back-pressure. The same happens while a reply cannot be written because the job does
/// not read fd 4: memory stays bounded by one line buffer and one pending reply.
///
/// A command answers through its <see cref="CommandCall"/>, which answers here (the
/// <see cref="IReplyChannel"/>): the reply is written and the next command taken.
/// </summary>
public sealed class JobConnection : IReplyChannel, IReadyHandler
{
    private readonly EpollLoop _loop;
    private readonly Dispatcher _dispatcher;
    private readonly ILogger _log;
    private readonly CommandReader _reader;
    private readonly ReplyWriter _writer;

    private CommandCall? _current;      // the command in progress, if any
    private CommandCall? _awaitingBody; // a sendmsg whose message bytes are being read
    private bool _handling;             // inside HandleCommands: a command completed synchronously
    private bool _jobExited;
    private bool _closed;

    public JobConnection(EpollLoop loop, Job job, int cmdFd, int replyFd, Dispatcher dispatcher, ILogger log)
    {
        _loop = loop;
        Job = job;
        _dispatcher = dispatcher;
        _log = log;
        _reader = new CommandReader(loop, job, cmdFd, this, log);
        _writer = new ReplyWriter(loop, replyFd, unblocked: HandleCommands);
    }

    /// <summary>The job whose descriptors these are: every command acts as this job.</summary>
    public Job Job { get; }

    Job IReplyChannel.Caller => Job;

    /// <summary>fd 3 is readable (or hung up).</summary>
    public void OnReady(EpollEvents events) => HandleCommands();

    /// <summary>Handles buffered and readable commands until one is in progress, a reply
    /// is blocked, or the pipe is empty (then waits for more).</summary>
    private void HandleCommands()
    {
        if (_handling) return; // a command completed synchronously inside the turn below
        _handling = true;
        try { Turn(); }
        finally { _handling = false; }
        AbandonIfOrphaned();
        // Listen for more only while we would take it; see CommandReader.Listen.
        if (!_closed) _reader.Listen(_current is null && !_writer.Blocked);
    }

    /// <summary>Commands handled in one go before other jobs, timers and the control socket
    /// get their turn: a job that keeps its pipe full (pipelined commands, each maybe a
    /// spawn) must not hold the event loop for seconds. What a job wrote before exiting
    /// still runs all at once, before its end is recorded.</summary>
    private const int CommandsPerTurn = 32;
    private bool _continuing;
    private Action? _continue;

    private void Turn()
    {
        _reader.NewTurn();
        int budget = _jobExited ? int.MaxValue : CommandsPerTurn;
        while (!_closed && _current is null && !_writer.Blocked)
        {
            if (TakeOne())
            {
                if (--budget > 0) continue;
                ContinueLater();
                return;
            }
            if (_reader.Eof) { InputEnded(); return; }
            if (!_reader.Fill()) return;
        }
    }

    private void ContinueLater()
    {
        if (_continuing) return;
        _continuing = true;
        _loop.Post(_continue ??= () => { _continuing = false; HandleCommands(); });
    }

    /// <summary>Handles what the reader holds complete; false when it needs more input.</summary>
    private bool TakeOne()
    {
        switch (_reader.Take(out var line, out var body))
        {
            case CommandInput.NeedMore:
                return false;
            case CommandInput.Line:
                HandleLine(line);
                return true;
            case CommandInput.LineTooLong:
                RefuseLine(default, $"line longer than {CommandReader.MaxLine} bytes");
                return true;
            case CommandInput.Payload:
                BodyRead(body, terminated: true);
                return true;
            default: // CommandInput.PayloadUnterminated
                BodyRead(body, terminated: false);
                return true;
        }
    }

    private void HandleLine(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IndexOf((byte)0) >= 0) { RefuseLine(bytes, "command contains a NUL byte"); return; }
        string line;
        try { line = Strict.GetString(bytes); }
        catch (DecoderFallbackException) { RefuseLine(bytes, "command is not valid UTF-8"); return; }
        switch (_dispatcher.Dispatch(this, line))
        {
            case { Refusal: { } reason }:
                RefuseLine(bytes, reason);
                break;
            case { Call: { } call, PayloadLength: { } length }:
                // sendmsg: the next `length` bytes and a LF are the message; when it is
                // refused anyway, they are skipped and the refusal is the reply.
                _awaitingBody = call;
                _reader.ExpectPayload(length, skip: call.PayloadRefusal is not null);
                break;
            case { Call: { } call }:
                Run(call, null);
                break;
        }
    }

    private static readonly UTF8Encoding Strict = new(false, true);

    private void BodyRead(byte[] body, bool terminated)
    {
        if (_awaitingBody is not { } call) return;
        _awaitingBody = null;
        if (call.PayloadRefusal is { } refusal) call.Refuse(refusal);
        else if (!terminated) call.Refuse($"message of {body.Length} bytes not followed by LF");
        else Run(call, body);
    }

    private void Run(CommandCall call, byte[]? body)
    {
        _current = call;
        _dispatcher.Run(call, body);
    }

    void IReplyChannel.Reply(CommandCall call, byte[] reply) => Complete(call, reply);

    void IReplyChannel.Refuse(CommandCall call, string reason)
    {
        RefuseLine(Encoding.UTF8.GetBytes(call.Line), reason);
        Complete(call, Array.Empty<byte>());
    }

    /// <summary>Writes a command's reply and moves on to the next command.</summary>
    private void Complete(CommandCall call, byte[] reply)
    {
        if (!ReferenceEquals(_current, call) && _current is not null) return;
        _current = null;
        _writer.Write(reply);
        HandleCommands();
    }

    private void RefuseLine(ReadOnlySpan<byte> line, string reason)
    {
        // A reason may quote the job's own words (an unknown verb, an option letter, a
        // key), and $'...' lets a word hold a newline: shown raw, it would split the reply
        // in two and forge a line in the log. Control characters become '?'.
        reason = Logging.OneLineProperties.OneLine(reason);
        string shown = line.IsEmpty ? "" : $" '{Printable(line)}'";
        _log.LogWarning("{Job}: refused{Line}: {Reason}", Job.Id, shown, reason);
        _writer.Write(Encoding.UTF8.GetBytes($"E {reason}\n"));
    }

    private static string Printable(ReadOnlySpan<byte> line)
    {
        var text = Encoding.UTF8.GetString(line.Length > 200 ? line[..200] : line);
        var sb = new StringBuilder(text.Length);
        foreach (char c in text) sb.Append(c < 0x20 || c == 0x7f ? '?' : c);
        if (line.Length > 200) sb.Append("...");
        return sb.ToString();
    }

    /// <summary>The job's process has exited. Commands it left in the pipe still run (a
    /// job may enqueue and exit without reading the reply); a command that can only
    /// complete later is abandoned once nobody can send more (fd 3 at EOF).</summary>
    public void JobExited()
    {
        _jobExited = true;
        HandleCommands();
    }

    /// <summary>A job that has exited cannot read the answer to a command that waits (a
    /// wait, a recvmsg): once nobody else holds its fd 3 either, each such command is
    /// abandoned in turn, and the ones after it still run.</summary>
    private void AbandonIfOrphaned()
    {
        while (_jobExited && _current is { } call && !_closed && !_handling && _reader.AtEof())
        {
            _current = null;
            call.Cancel();
            _log.LogDebug("{Job}: {Command} abandoned: the job has exited", Job.Id, call.Verb);
            _handling = true;
            try { Turn(); }
            finally { _handling = false; }
        }
    }

    /// <summary>fd 3 is at EOF with no command in progress: nobody can send more.</summary>
    private void InputEnded()
    {
        if (_awaitingBody is not null)
        {
            _log.LogWarning("{Job}: fd 3 closed in the middle of a sendmsg; message dropped", Job.Id);
            _awaitingBody = null;
            _reader.DropPayload();
        }
        Close();
    }

    public void Close()
    {
        if (_closed) return;
        _closed = true;
        var call = _current;
        _current = null;
        call?.Cancel();
        _reader.Close();
        _writer.Close();
    }
}
