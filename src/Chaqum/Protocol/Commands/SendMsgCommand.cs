using Chaqum.Messaging;
using Chaqum.Scheduling;

namespace Chaqum.Protocol.Commands;

/// <summary>sendmsg -- JOBID LENGTH, LF, LENGTH bytes, LF → S MSGID.</summary>
public sealed class SendMsgCommand(CommandServices services) : ICommandWithPayload
{
    public string Verb => "sendmsg";
    public string OptionSpec => "";

    public long PayloadLength(CommandCall call, out string? refusal)
    {
        if (call.Operands.Count != 2) throw new ProtocolException("expected JOBID LENGTH");
        if (!long.TryParse(call.Operands[1], System.Globalization.NumberStyles.None, null, out long length))
            throw new ProtocolException($"'{call.Operands[1]}' is not a length in bytes");
        refusal = null;
        if (length > PostOffice.MaxMessageBytes)
            refusal = $"message of {length} bytes is larger than the limit of {PostOffice.MaxMessageBytes}";
        else if (services.Scheduler.Find(call.Operands[0]) is not { } job || !job.State.IsActive())
            refusal = PostOffice.NoLiveJob(call.Operands[0]);
        return length;
    }

    public void Run(CommandCall call) => throw new InvalidOperationException("sendmsg needs its payload");

    public void Run(CommandCall call, byte[] payload)
    {
        // Looked up again: the destination may have ended while the bytes arrived.
        if (services.Scheduler.Find(call.Operands[0]) is not { } destination)
            throw new ProtocolException(PostOffice.NoLiveJob(call.Operands[0]));
        var message = services.PostOffice.Send(call.Caller, destination, payload);
        call.Ok(message.Id);
    }
}
