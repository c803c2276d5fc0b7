using System.Text.Json;
using Chaqum.Control.Messages;
using Chaqum.EventLoop;
using Chaqum.History;
using Chaqum.Processes;
using Chaqum.Scheduling;

namespace Chaqum.Control;

/// <summary>
/// A job as operators see it (<see cref="JobInfo"/>: ps, show, tree, snapshot). The
/// figures are taken on the event loop, where jobs change; the JSON is then written on
/// any thread: a ps of 100 000 jobs is written off the loop, which meanwhile goes on
/// serving jobs.
/// </summary>
public static class JobView
{
    /// <summary>On the event loop. usual: the script's usual runtime, if known.</summary>
    public static JobInfo Of(Job job, IClock clock, Usual? usual)
    {
        bool finished = job.State.IsFinished();
        double? runtime = job.State switch
        {
            JobState.Running => (clock.Now - job.StartedMono).TotalSeconds,
            JobState.Done or JobState.Retrying => job.LastRuntime.TotalSeconds,
            _ => null,
        };
        return new JobInfo
        {
            Id = job.Id,
            Script = job.Script.Relative,
            Args = job.Args,
            State = State(job),
            Group = job.Group.IsDefault ? null : job.Group.Name,
            Parent = job.Parent?.Id,
            Pid = job.State == JobState.Running ? job.Pid : null,
            EnqueuedAt = Time(job.EnqueuedAt),
            StartedAt = Time(job.StartedAt),
            EndedAt = finished ? Time(job.EndedAt) : null,
            RuntimeSeconds = runtime,
            UsualSeconds = usual?.Median,
            LongerThanUsual = job.State == JobState.Running && usual is not null && runtime is { } r && usual.IsLonger(r),
            Attempt = job.Attempt,
            Slot = job.Slot >= 0 ? job.Slot : null,
            Priority = job.Priority,
            Status = finished ? job.Status.Wire : null,
            Outcome = finished ? job.Outcome.Word() : null,
            Repeat = job.Repeat?.Id,
            DueAt = Time(job.DueAt),
            Held = job.Held,
            Urgent = job.Urgent,
            Plan = job.Step?.Plan.Id,
            PlanPath = job.Step?.Path,
            Executor = job.Placement?.Executor,
            Node = job.Placement?.Node,
            ExternalId = job.Placement?.ExternalId,
        };
    }

    public static string? Time(DateTimeOffset? t) => ControlProtocol.Time(t);

    /// <summary>pending, scheduled, held, queued, running, paused, stopped, retrying, done,
    /// cancelled. A held job that has not started is "held" whatever it waits for (its
    /// due time, its dependencies: show says which). A
    /// running job the operator paused is "paused"; one stopped by a signal from anyone
    /// else (or itself) is "stopped", as /proc says (state T): it runs no more than a
    /// paused one, and ps must not call it running.</summary>
    public static string State(Job job)
    {
        var word = StateWithoutProc(job);
        return job.State == JobState.Running && !job.Paused && ProcStat.State(job.Pid) is 'T' or 't' ? "stopped" : word;
    }

    /// <summary>The state word from the daemon's own record only: what <see cref="State"/>
    /// says, except "stopped" (which needs /proc). Events use it: they must cost the loop
    /// no file read.</summary>
    public static string StateWithoutProc(Job job)
    {
        if (job.Held && job.State.IsActive() && job.State is not (JobState.Running or JobState.Starting)) return "held";
        if (job.State == JobState.Running && job.Paused) return "paused";
        return job.State.Word();
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
            return Of(j, services.Clock, u);
        }).ToArray();
        return w =>
        {
            w.WriteStartArray();
            foreach (var v in views)
            {
                JsonSerializer.Serialize(w, v, ControlJson.Default.JobInfo);
                if (w.BytesPending > 64 * 1024) w.Flush();
            }
            w.WriteEndArray();
        };
    }
}
