using System.Globalization;
using System.Text.Json.Nodes;
using Chaqum.Scheduling;

namespace Chaqum.Control;

/// <summary>A job as operators see it: the JSON of ps, show, tree and snapshot.</summary>
public sealed class JobView(Job job, ControlServices services)
{
    public static string? Time(DateTimeOffset? t) =>
        t?.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    /// <summary>queued, pending, running, paused, retrying, done, cancelled.</summary>
    public static string State(Job job) => job.State == JobState.Running && job.Paused ? "paused" : job.State.Word();

    public double? RuntimeSeconds => job.State switch
    {
        JobState.Running => (services.Clock.Now - job.StartedMono).TotalSeconds,
        JobState.Done or JobState.Retrying => job.LastRuntime.TotalSeconds,
        _ => null,
    };

    public JsonObject ToJson()
    {
        var usual = services.History?.UsualFor(job.Script.Relative);
        double? runtime = RuntimeSeconds;
        return new JsonObject
        {
            ["id"] = job.Id,
            ["script"] = job.Script.Relative,
            ["args"] = new JsonArray(job.Args.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["state"] = State(job),
            ["group"] = job.Group.IsDefault ? null : job.Group.Name,
            ["parent"] = job.Parent?.Id,
            ["pid"] = job.State == JobState.Running ? job.Pid : null,
            ["enqueued_at"] = Time(job.EnqueuedAt),
            ["started_at"] = Time(job.StartedAt),
            ["ended_at"] = job.State.IsFinished() ? Time(job.EndedAt) : null,
            ["runtime_seconds"] = runtime,
            ["usual_seconds"] = usual?.Median,
            ["longer_than_usual"] = job.State == JobState.Running && usual is not null && runtime is { } r && usual.IsLonger(r),
            ["attempt"] = job.Attempt,
            ["slot"] = job.Slot >= 0 ? job.Slot : null,
            ["priority"] = job.Priority,
            ["status"] = job.State.IsFinished() ? job.Status.Wire : null,
            ["outcome"] = job.State.IsFinished() ? job.Outcome.Word() : null,
            ["repeat"] = job.Repeat?.Id,
        };
    }
}
