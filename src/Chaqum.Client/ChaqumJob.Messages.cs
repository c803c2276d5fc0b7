using System.Text;
using System.Text.Json;

namespace Chaqum.Client;

// Messages between jobs: sendmsg, recvmsg, waitrecv.
public sealed partial class ChaqumJob
{
    /// <summary>Sends raw bytes to a job that has not ended (queued jobs find it when they
    /// run). At most 16 MiB.</summary>
    public async Task<SentMessage> SendAsync(string jobId, ReadOnlyMemory<byte> data, CancellationToken cancel = default)
    {
        var line = new CommandLine("sendmsg").Operands([jobId, data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var reply = await _connection.ExchangeAsync(line, data, cancel: cancel).ConfigureAwait(false);
        return new SentMessage(this, reply.Single("sendmsg"));
    }

    /// <summary>Sends text, as UTF-8.</summary>
    public Task<SentMessage> SendTextAsync(string jobId, string text, CancellationToken cancel = default) =>
        SendAsync(jobId, Encoding.UTF8.GetBytes(text), cancel);

    /// <summary>Sends a value as JSON (System.Text.Json).</summary>
    public Task<SentMessage> SendJsonAsync<T>(string jobId, T value, JsonSerializerOptions? options = null,
        CancellationToken cancel = default) =>
        SendAsync(jobId, JsonSerializer.SerializeToUtf8Bytes(value, options), cancel);

    /// <summary>Takes the oldest message addressed to this job, waiting up to the timeout
    /// (null: for ever; zero: only what is there). Null when none came in time.</summary>
    public async Task<ReceivedMessage?> ReceiveAsync(TimeSpan? timeout = null, CancellationToken cancel = default)
    {
        var line = new CommandLine("recvmsg");
        line.Option('t', Bounded(timeout));
        var reply = await _connection.ExchangeAsync(line, hasBody: true, timeoutAllowed: true, cancel: cancel).ConfigureAwait(false);
        return reply.TimedOut ? null : new ReceivedMessage(reply.Body!);
    }

    /// <summary>Waits until each message was received, or can no longer be (its
    /// destination ended), or the timeout expires (null: for ever). Returns every id asked,
    /// in order, with its delivery; Unknown for ids the daemon left out.</summary>
    public async Task<IReadOnlyDictionary<string, MessageDelivery>> WaitReceivedAsync(IEnumerable<string> messageIds,
        TimeSpan? timeout = null, CancellationToken cancel = default)
    {
        var ids = messageIds.ToList();
        var line = new CommandLine("waitrecv");
        line.Option('t', Bounded(timeout));
        line.Operands(ids);
        var pairs = (await _connection.ExchangeAsync(line, cancel: cancel).ConfigureAwait(false)).Pairs("waitrecv");
        var deliveries = new OrderedDictionary<string, MessageDelivery>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            deliveries[id] = pairs.TryGetValue(id, out var word)
                ? word switch
                {
                    "R" => MessageDelivery.Received,
                    "T" => MessageDelivery.NotReceived,
                    _ => throw new ChaqumException($"waitrecv: unreadable delivery '{word}' in the daemon's reply"),
                }
                : MessageDelivery.Unknown;
        }
        return deliveries;
    }
}
