using Chaqum.Control.Messages;

namespace Chaqum.Control.Requests;

/// <summary>events {job} → a stream of {"change": DaemonEvent} events, as things happen,
/// until the client closes the connection (no answer while the daemon runs). The web
/// dashboard's live updates come from here; see <see cref="EventFeed"/> for what an idle
/// subscriber costs (nothing) and what a slow one is told (skipped N).</summary>
public sealed class EventsRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Events.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.Events);
        var feed = services.Events ?? throw new ControlException("events are not available");
        if (args.Job is { } id && services.Scheduler.Find(id) is null)
            throw new ControlException($"no job '{id}'");
        feed.Subscribe(call, args.Job);
    }
}
