using Chaqum.Control.Messages;
using Chaqum.Scheduling;

namespace Chaqum.Control;

/// <summary>
/// The events request's source: what the scheduler reports (a job enqueued, started,
/// ended, killed, paused; a group's or a repeat's change) made into one
/// <see cref="DaemonEvent"/> each and handed to every subscriber.
///
/// Pushed from the loop as things happen, never polled: a subscriber that waits for
/// nothing costs nothing (no timer, no thread; just an entry in a list). Each event goes
/// to the subscriber's session outbox as a droppable item, so a reader that falls behind
/// holds at most the session's bound (<see cref="ControlSession.MaxBacklog"/>) and is
/// told how many events it missed ({"skipped": N}), as log -f is.
/// </summary>
public sealed class EventFeed
{
    private readonly List<Subscriber> _subscribers = new();
    private readonly Scheduler _scheduler;

    private sealed record Subscriber(ControlCall Call, string? Job);

    public EventFeed(Scheduler scheduler)
    {
        _scheduler = scheduler;
        scheduler.JobEnqueued += j => Job(j, "enqueued");
        scheduler.JobStarted += j => Job(j, "started");
        scheduler.AttemptEnded += (j, status, outcome) =>
        {
            // The last attempt's end is the job's end (JobFinished, below); an attempt
            // that will be retried is its own event.
            if (j.State == JobState.Retrying) Job(j, "retrying", status: status.Wire, outcome: outcome.Word(), runtime: j.LastRuntime.TotalSeconds);
        };
        scheduler.JobFinished += j => Job(j, "ended", status: j.Status.Wire, outcome: j.Outcome.Word(),
            runtime: j.StartedAt is null ? null : j.LastRuntime.TotalSeconds);
        scheduler.JobChanged += j => Job(j, "changed");
        scheduler.JobNoted += (j, kind, detail) => Job(j, kind, detail: detail);
        scheduler.GroupChanged += g => Send(new DaemonEvent
        {
            Kind = "group",
            Time = Now(),
            Group = g.IsDefault ? null : g.Name,
            Detail = g.Paused ? "paused" : "resumed",
        }, job: null);
        scheduler.RepeatChanged += (r, what) => Send(new DaemonEvent
        {
            Kind = "repeat",
            Time = Now(),
            Repeat = r.Id,
            Script = r.Script.Relative,
            Group = r.GroupName,
            Detail = what,
        }, job: null);
    }

    /// <summary>Clients following events now.</summary>
    public int Subscribers => _subscribers.Count;

    /// <summary>On the loop: from now on, events go to this call (only job's, if given).</summary>
    public void Subscribe(ControlCall call, string? job)
    {
        var subscriber = new Subscriber(call, job);
        _subscribers.Add(subscriber);
        call.OnCancel(() => _subscribers.Remove(subscriber));
    }

    private string? Now() => ControlProtocol.Time(_scheduler.Clock.WallNow);

    private void Job(Job job, string kind, string? status = null, string? outcome = null, double? runtime = null, string? detail = null)
    {
        if (_subscribers.Count == 0) return;
        Send(new DaemonEvent
        {
            Kind = kind,
            Time = Now(),
            Job = job.Id,
            Script = job.Script.Relative,
            Group = job.Group.IsDefault ? null : job.Group.Name,
            // Not JobView.State: that reads /proc for a running job (stopped or not), and
            // an event must cost the loop no file read. "stopped" shows in ps, not here.
            State = JobView.StateWithoutProc(job),
            Status = status,
            Outcome = outcome,
            RuntimeSeconds = runtime,
            Repeat = job.Repeat?.Id,
            Detail = detail,
        }, job.Id);
    }

    private void Send(DaemonEvent change, string? job)
    {
        if (_subscribers.Count == 0) return;
        var payload = new ControlEvent { Change = change };
        // A copy: a call whose client is gone removes itself (OnCancel) from the list.
        foreach (var s in _subscribers.ToArray())
        {
            if (s.Job is not null && s.Job != job) continue;
            s.Call.Event(payload, droppable: true);
        }
    }
}
