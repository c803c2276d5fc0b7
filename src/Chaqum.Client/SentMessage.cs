namespace Chaqum.Client;

/// <summary>A message this job sent (<c>msg:N</c>).</summary>
public sealed class SentMessage
{
    internal SentMessage(ChaqumJob chaqum, string id)
    {
        Chaqum = chaqum;
        Id = id;
    }

    public ChaqumJob Chaqum { get; }

    public string Id { get; }

    /// <summary>Waits until the destination received the message, or can no longer receive
    /// it, or the timeout expires (null: for ever).</summary>
    public async Task<MessageDelivery> WaitReceivedAsync(TimeSpan? timeout = null, CancellationToken cancel = default) =>
        (await Chaqum.WaitReceivedAsync([Id], timeout, cancel).ConfigureAwait(false))[Id];

    public override string ToString() => Id;
}
