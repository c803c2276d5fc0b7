using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chaqum.Control.History;
using Chaqum.EventLoop;
using Chaqum.Scheduling;

namespace Chaqum.Control;

/// <summary>
/// A job as operators see it: the JSON of ps, show, tree and snapshot. The figures are
/// taken when the view is made (on the event loop, where jobs change), and the JSON can
/// then be built on any thread: a ps of 100 000 jobs builds its two million JSON nodes
/// off the loop, which meanwhile goes on serving jobs.
/// </summary>
public sealed class JobView
{
    private readonly string _id, _script, _state;
    private readonly string[] _args;
    private readonly string? _group, _parent, _status, _outcome, _repeat;
    private readonly int? _pid, _slot;
    private readonly DateTimeOffset _enqueuedAt;
    private readonly DateTimeOffset? _startedAt, _endedAt;
    private readonly double? _runtime, _usual;
    private readonly bool _longer;
    private readonly int _attempt, _priority;

    /// <summary>On the event loop. usual: the script's usual runtime, if known.</summary>
    public JobView(Job job, IClock clock, Usual? usual)
    {
        bool finished = job.State.IsFinished();
        _id = job.Id;
        _script = job.Script.Relative;
        _args = job.Args;
        _state = State(job);
        _group = job.Group.IsDefault ? null : job.Group.Name;
        _parent = job.Parent?.Id;
        _pid = job.State == JobState.Running ? job.Pid : null;
        _enqueuedAt = job.EnqueuedAt;
        _startedAt = job.StartedAt;
        _endedAt = finished ? job.EndedAt : null;
        _runtime = job.State switch
        {
            JobState.Running => (clock.Now - job.StartedMono).TotalSeconds,
            JobState.Done or JobState.Retrying => job.LastRuntime.TotalSeconds,
            _ => null,
        };
        _usual = usual?.Median;
        _longer = job.State == JobState.Running && usual is not null && _runtime is { } r && usual.IsLonger(r);
        _attempt = job.Attempt;
        _slot = job.Slot >= 0 ? job.Slot : null;
        _priority = job.Priority;
        _status = finished ? job.Status.Wire : null;
        _outcome = finished ? job.Outcome.Word() : null;
        _repeat = job.Repeat?.Id;
    }

    public static string? Time(DateTimeOffset? t) =>
        t?.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    /// <summary>queued, pending, running, paused, retrying, done, cancelled.</summary>
    public static string State(Job job) => job.State == JobState.Running && job.Paused ? "paused" : job.State.Word();

    /// <summary>Any thread: only the figures taken at construction are read.</summary>
    public void WriteTo(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id", _id);
        w.WriteString("script", _script);
        w.WriteStartArray("args");
        foreach (var a in _args) w.WriteStringValue(a);
        w.WriteEndArray();
        w.WriteString("state", _state);
        Text(w, "group", _group);
        Text(w, "parent", _parent);
        Number(w, "pid", _pid);
        w.WriteString("enqueued_at", Time(_enqueuedAt));
        Text(w, "started_at", Time(_startedAt));
        Text(w, "ended_at", Time(_endedAt));
        Number(w, "runtime_seconds", _runtime);
        Number(w, "usual_seconds", _usual);
        w.WriteBoolean("longer_than_usual", _longer);
        w.WriteNumber("attempt", _attempt);
        Number(w, "slot", _slot);
        w.WriteNumber("priority", _priority);
        Text(w, "status", _status);
        Text(w, "outcome", _outcome);
        Text(w, "repeat", _repeat);
        w.WriteEndObject();
    }

    private static void Text(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    private static void Number(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    /// <summary>As a JsonObject, for answers that add to it (show).</summary>
    public JsonObject ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer)) WriteTo(w);
        return JsonNode.Parse(buffer.WrittenSpan)!.AsObject();
    }

    /// <summary>Views of many jobs, made now (on the loop, usual runtimes looked up once per
    /// script); the writer they return puts them in a JSON array, off the loop, flushing
    /// to the socket as it goes (see <see cref="ControlCall.ReplyStreamed"/>).</summary>
    public static Action<Utf8JsonWriter> ListOf(IEnumerable<Job> jobs, ControlServices services)
    {
        var usual = new Dictionary<string, Usual?>(StringComparer.Ordinal);
        var views = jobs.Select(j =>
        {
            var script = j.Script.Relative;
            if (!usual.TryGetValue(script, out var u)) usual[script] = u = services.History?.UsualFor(script);
            return new JobView(j, services.Clock, u);
        }).ToArray();
        return w =>
        {
            w.WriteStartArray();
            foreach (var v in views)
            {
                v.WriteTo(w);
                if (w.BytesPending > 64 * 1024) w.Flush();
            }
            w.WriteEndArray();
        };
    }
}
