using Chaqum.Scheduling;

namespace Chaqum.Messaging;

public enum MessageState { Queued, Received, Dropped }

/// <summary>Bytes one job sent another, from sendmsg until someone learned its fate.</summary>
public sealed class Message(string id, byte[] data, Job sender, Job destination)
{
    public string Id { get; } = id;
    public byte[] Data { get; private set; } = data;
    public Job Sender { get; } = sender;
    public Job Destination { get; } = destination;
    public MessageState State { get; private set; }
    public bool Final => State != MessageState.Queued;

    private List<Action<Message>>? _watchers;

    /// <summary>Calls back once the message was received or dropped (at once if it was).</summary>
    public void OnFinal(Action<Message> watcher)
    {
        if (Final) { watcher(this); return; }
        (_watchers ??= new()).Add(watcher);
    }

    public void RemoveWatcher(Action<Message> watcher) => _watchers?.Remove(watcher);

    internal void Settle(MessageState state)
    {
        State = state;
        Data = Array.Empty<byte>(); // the bytes are delivered or moot; keep only the record
        var watchers = _watchers;
        _watchers = null;
        if (watchers is null) return;
        foreach (var w in watchers) w(this);
    }
}
