using Chaqum.Plans;

namespace Chaqum.Protocol.Commands;

/// <summary>plan -- LENGTH, LF, LENGTH bytes of a plan document (JSON), LF → S plan/N.
/// Framed exactly as sendmsg's message. A plan with a fault is refused whole, nothing of
/// it enqueued: E with the JSON path of the fault ("plan: $.work[1].command: no such
/// script: 'convrt'"). The steps name the submitting job as their parent.</summary>
public sealed class PlanCommand(CommandServices services) : ICommandWithPayload
{
    /// <summary>The largest plan document taken over fd 3 (a plan of 100 000 steps of a
    /// few words each fits).</summary>
    public const int MaxDocumentBytes = 16 * 1024 * 1024;

    public string Verb => "plan";
    public string OptionSpec => "";

    public long PayloadLength(CommandCall call, out string? refusal)
    {
        if (call.Operands.Count != 1) throw new ProtocolException("expected LENGTH (plan -- LENGTH, then the document)");
        if (!long.TryParse(call.Operands[0], System.Globalization.NumberStyles.None, null, out long length))
            throw new ProtocolException($"'{call.Operands[0]}' is not a length in bytes");
        refusal = length > MaxDocumentBytes ? $"plan document of {length} bytes is larger than the limit of {MaxDocumentBytes}"
            : services.Plans is null ? "plans are not available" : null;
        return length;
    }

    public void Run(CommandCall call) => throw new InvalidOperationException("plan needs its document");

    public void Run(CommandCall call, byte[] payload)
    {
        try
        {
            var plan = services.Plans!.Submit(payload, call.Caller.Id);
            call.Ok(plan.Id);
        }
        catch (PlanRefusedException e)
        {
            throw new ProtocolException(e.Message);
        }
    }
}
