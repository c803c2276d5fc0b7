namespace Chaqum.Protocol;

/// <summary>One verb of the protocol. Implementations live in Protocol/Commands, one file
/// each, and answer through the <see cref="CommandCall"/> now or later.</summary>
public interface ICommand
{
    string Verb { get; }

    /// <summary>getopt spec of its options, e.g. "at:" for wait.</summary>
    string OptionSpec { get; }

    /// <summary>Long options by name, ':' after those taking a value (e.g. "settle:").</summary>
    IReadOnlyList<string> LongOptions => Array.Empty<string>();

    void Run(CommandCall call);
}

/// <summary>A command followed by a body of bytes (sendmsg).</summary>
public interface ICommandWithPayload : ICommand
{
    /// <summary>Validates the operands and returns the body length. Throws
    /// ProtocolException when the length itself cannot be known; returns a refusal
    /// (with the length, so the body is skipped) when the body must be discarded.</summary>
    long PayloadLength(CommandCall call, out string? refusal);

    void Run(CommandCall call, byte[] payload);
}
