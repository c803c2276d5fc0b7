using System.Text;
using Chaqum.Words;
using Chaqum.Scheduling;

namespace Chaqum.Protocol;

/// <summary>One command in progress: who sent it, what it says, and how to answer. Each
/// call is answered exactly once: Ok, Refuse, TimedOut or Message.</summary>
public sealed class CommandCall
{
    private readonly IReplyChannel _replies;
    private Action? _onCancel;

    internal CommandCall(IReplyChannel replies, ICommand command, string line, ParsedOptions options)
    {
        _replies = replies;
        Command = command;
        Line = line;
        Options = options;
    }

    internal ICommand Command { get; }
    public string Verb => Command.Verb;
    public string Line { get; }
    public ParsedOptions Options { get; }
    public IReadOnlyList<string> Operands => Options.Operands;
    /// <summary>The job that sent the command (its fd 3).</summary>
    public Job Caller => _replies.Caller;
    public bool Answered { get; private set; }
    internal string? PayloadRefusal { get; set; }

    /// <summary>"S" followed by the words, quoted where needed.</summary>
    public void Ok(IEnumerable<string> words)
    {
        var sb = new StringBuilder("S");
        foreach (var w in words) sb.Append(' ').Append(ShellWords.Quote(w));
        Answer(sb.Append('\n').ToString());
    }

    public void Ok(params string[] words)
    {
        if (words.Length == 0) Answer(EmptyOk);
        else Ok((IEnumerable<string>)words);
    }

    /// <summary>"S" alone, the most common answer: one array for all (never written to).</summary>
    private static readonly byte[] EmptyOk = "S\n"u8.ToArray();

    /// <summary>"E reason"; the reason is logged with the job's id.</summary>
    public void Refuse(string reason)
    {
        if (Answered) return;
        Answered = true;
        _onCancel = null;
        _replies.Refuse(this, reason.ReplaceLineEndings(" "));
    }

    /// <summary>"T": recvmsg found nothing in time.</summary>
    public void TimedOut() => Answer("T\n");

    /// <summary>recvmsg's answer: "S LENGTH", LF, the bytes, LF.</summary>
    public void Message(byte[] data)
    {
        if (Answered) return;
        Answered = true;
        _onCancel = null;
        var header = Encoding.ASCII.GetBytes($"S {data.Length}\n");
        var reply = new byte[header.Length + data.Length + 1];
        header.CopyTo(reply, 0);
        data.CopyTo(reply, header.Length);
        reply[^1] = (byte)'\n';
        _replies.Reply(this, reply);
    }

    private void Answer(string line) => Answer(Encoding.UTF8.GetBytes(line));

    private void Answer(byte[] reply)
    {
        if (Answered) return;
        Answered = true;
        _onCancel = null;
        _replies.Reply(this, reply);
    }

    /// <summary>What to undo (waiters, timers) if the call is abandoned unanswered.</summary>
    public void OnCancel(Action undo) => _onCancel = undo;

    internal void Cancel()
    {
        if (Answered) return;
        Answered = true;
        var undo = _onCancel;
        _onCancel = null;
        undo?.Invoke();
    }
}
