namespace Chaqum.Client;

/// <summary>
/// A chaqum call failed. Either the daemon refused the command (an <c>E</c> reply: then
/// <see cref="Reason"/> holds the daemon's reason, which is also the <see cref="Exception.Message"/>),
/// or talking to the daemon is not possible (not running as a chaqum job, the daemon
/// went away, the connection was broken by a cancelled call).
/// </summary>
public class ChaqumException : Exception
{
    public ChaqumException(string message) : base(message) { }

    public ChaqumException(string message, Exception inner) : base(message, inner) { }

    private ChaqumException(string reason, string command) : base(reason)
    {
        Reason = reason;
        Command = command;
    }

    /// <summary>The daemon's reason, exactly as it sent it after <c>E </c>; null when the
    /// failure was not a refusal.</summary>
    public string? Reason { get; }

    /// <summary>The command line that was refused (without a message's bytes); null when the
    /// failure was not a refusal.</summary>
    public string? Command { get; }

    /// <summary>True when the daemon answered <c>E</c>: the connection is still usable.</summary>
    public bool IsRefusal => Reason is not null;

    internal static ChaqumException Refused(string reason, string command) => new(reason, command);
}
