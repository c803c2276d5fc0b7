namespace Chaqum.Client;

/// <summary>What <c>waitrecv</c> says about a sent message.</summary>
public enum MessageDelivery
{
    /// <summary>The daemon left the message out of its reply: the id was never issued, or
    /// its final state was already reported.</summary>
    Unknown = 0,
    /// <summary>The destination has received it (<c>R</c> on the wire).</summary>
    Received,
    /// <summary>Not received (<c>T</c> on the wire): not yet when the timeout expired, or
    /// never, because the destination ended without receiving it.</summary>
    NotReceived,
}
