using Chaqum.Scheduling;

namespace Chaqum.Protocol;

/// <summary>
/// Where a command's one answer goes: the job connection that read the command. Commands
/// answer through their <see cref="CommandCall"/>, which answers here; neither they nor
/// the dispatcher reach into the connection's reading or writing.
/// </summary>
public interface IReplyChannel
{
    /// <summary>The job that sent the command (its fd 3).</summary>
    Job Caller { get; }

    /// <summary>The call is over: its reply is written, in order, and the next command read.</summary>
    void Reply(CommandCall call, byte[] reply);

    /// <summary>The call is refused: "E reason" is written and logged with the job's id
    /// and the command line, and the next command read.</summary>
    void Refuse(CommandCall call, string reason);
}
