using System.Text.Json;
using Chaqum.Control.Messages;

namespace Chaqum.Control;

/// <summary>One request in progress: answers once (Reply or Fail), may send events before.
/// Safe to call from the loop thread: what it sends is queued in the session's outbox and
/// written from there.</summary>
public sealed class ControlCall
{
    private readonly ControlSession _session;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _order = new();
    private Action? _onCancel;

    internal ControlCall(ControlRequestLine request, ControlSession session)
    {
        Request = request;
        _session = session;
    }

    public ControlRequestLine Request { get; }
    public bool Finished { get; private set; }
    /// <summary>Runs an action on the event loop (set by the dispatcher).</summary>
    internal Action<Action>? Post { get; set; }
    /// <summary>When it was handed to the loop (Stopwatch ticks): status measures the
    /// loop's lag from it.</summary>
    internal long PostedAt { get; set; }
    /// <summary>Done once the answer has been written (or can no longer be).</summary>
    internal Task Completion => _done.Task;

    public TArgs ArgsOf<TArgs, TResult>(ControlVerb<TArgs, TResult> verb) => Request.ArgsOf(verb);

    /// <summary>An event before the answer. A line of output is droppable: should this
    /// reader fall behind, the oldest lines go and it is told how many (see
    /// <see cref="Backlog{T}"/>).</summary>
    public void Event(ControlEvent payload, bool droppable = false)
    {
        lock (_order)
        {
            if (Finished) return;
            long size = droppable ? 128 + 2L * (payload.Line?.Text.Length ?? 0) : 0;
            _session.Queue(new Outgoing(Request.Id, w => Outgoing.Event(w, Request.Id, payload)), size, droppable);
        }
    }

    /// <summary>The reader is behind by the whole backlog: an event of a typical line's
    /// size would only push an older one out. A follower counts what it has for such a
    /// reader (<see cref="Missed"/>) rather than make it.</summary>
    public bool Behind => !Finished && _session.Behind(LineCost);

    /// <summary>Droppable events this reader misses (it was <see cref="Behind"/>): it is
    /// told how many before the next thing it gets.</summary>
    public void Missed(long count)
    {
        lock (_order)
            if (!Finished) _session.Skip(count);
    }

    /// <summary>What a line of typical length costs in the backlog (see Event).</summary>
    private const long LineCost = 128 + 2 * 80;

    public void Reply<TArgs, TResult>(ControlVerb<TArgs, TResult> verb, TResult result) =>
        Final(new Outgoing(Request.Id, w => Outgoing.Answer(w, Request.Id, r => JsonSerializer.Serialize(r, result, verb.Result))));

    /// <summary>Answers with a result written by writeResult (one JSON value), on a thread
    /// of its own and straight to the socket: for answers too big to build whole (a ps of
    /// 300 000 jobs is 130 MB of JSON). The writer must read only what it was given, never
    /// loop state.</summary>
    public void ReplyStreamed(Action<Utf8JsonWriter> writeResult) =>
        Final(new Outgoing(Request.Id, w => Outgoing.Answer(w, Request.Id, writeResult)) { Big = true });

    public void Fail(string error) => Final(new Outgoing(Request.Id, w => Outgoing.Error(w, Request.Id, error)));

    /// <summary>What to undo (a follow, a timer) if the client goes away first.</summary>
    public void OnCancel(Action undo) => _onCancel = undo;

    private void Final(Outgoing answer)
    {
        lock (_order)
        {
            if (Finished) return;
            Finished = true;
            _session.Queue(answer with { Written = _done }, 0, droppable: false);
        }
    }

    internal void Cancel()
    {
        Action? undo;
        lock (_order)
        {
            undo = _onCancel;
            _onCancel = null;
            Finished = true;
        }
        // The undo touches loop state: run it there.
        if (undo is not null) (Post ?? (a => a()))(undo);
        _done.TrySetResult();
    }
}

/// <summary>A line waiting in a session's outbox: who it answers, how to write it, and
/// whom to tell once it is written.</summary>
internal sealed record Outgoing(long Id, Action<Utf8JsonWriter> Write)
{
    /// <summary>Written on a thread of its own, flushing as it goes.</summary>
    public bool Big { get; init; }
    public TaskCompletionSource? Written { get; init; }

    public static void Event(Utf8JsonWriter w, long id, ControlEvent payload)
    {
        Start(w, id);
        w.WritePropertyName("event");
        JsonSerializer.Serialize(w, payload, ControlJson.Default.ControlEvent);
        w.WriteEndObject();
    }

    public static void Answer(Utf8JsonWriter w, long id, Action<Utf8JsonWriter> result)
    {
        Start(w, id);
        w.WriteBoolean("ok", true);
        w.WritePropertyName("result");
        result(w);
        w.WriteEndObject();
    }

    public static void Error(Utf8JsonWriter w, long id, string error)
    {
        Start(w, id);
        w.WriteBoolean("ok", false);
        w.WriteString("error", error);
        w.WriteEndObject();
    }

    private static void Start(Utf8JsonWriter w, long id)
    {
        w.WriteStartObject();
        w.WriteNumber("v", ControlProtocol.Version);
        w.WriteNumber("id", id);
    }
}
