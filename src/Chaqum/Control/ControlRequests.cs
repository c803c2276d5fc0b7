using Chaqum.EventLoop;
using Chaqum.Persistence;
using Chaqum.Logging;
using Chaqum.Processes;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Control;

/// <summary>One kind of control request. Implementations live in Control/Requests, one
/// file each, and run on the event loop.</summary>
public interface IControlRequest
{
    string Name { get; }
    void Handle(ControlCall call);
}

/// <summary>What control requests work with.</summary>
public sealed record ControlServices(
    Scheduler Scheduler,
    JobRunner Runner,
    JobTree Tree,
    JobOutputFiles? Output,
    JobHistory? History,
    ITimers Timers,
    IClock Clock,
    ILogger Log)
{
    public required string StateDir { get; init; }
    public required string SocketPath { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>The events request's source (null in tests that build services by hand).</summary>
    public EventFeed? Events { get; init; }
    public DaemonCounters? Counters { get; init; }
    /// <summary>The daemon's plans.</summary>
    public Plans.PlanBook? Plans { get; init; }

    /// <summary>One job's view, on the loop.</summary>
    public Messages.JobInfo View(Job job) => JobView.Of(job, Clock, History?.UsualFor(job.Script.Relative));
}

/// <summary>Finds the handler of a request and runs it on the loop; unknown requests and
/// handler errors become error answers, never a dead daemon.</summary>
public sealed class ControlRequests
{
    private readonly Dictionary<string, IControlRequest> _handlers = new(StringComparer.Ordinal);
    private readonly EpollLoop _loop;
    private readonly ILogger _log;

    public ControlRequests(EpollLoop loop, IEnumerable<IControlRequest> handlers, ILogger log)
    {
        _loop = loop;
        _log = log;
        foreach (var h in handlers) _handlers[h.Name] = h;
    }

    public void Dispatch(ControlCall call)
    {
        call.Post = _loop.Post;
        call.PostedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!_handlers.TryGetValue(call.Request.Command, out var handler))
        {
            call.Fail($"unknown request '{call.Request.Command}'");
            return;
        }
        _loop.Post(() =>
        {
            try { handler.Handle(call); }
            catch (Exception e) when (e is ControlException or Protocol.ProtocolException or SchedulingException)
            {
                call.Fail(e.Message);
            }
            catch (Exception e)
            {
                _log.LogError(e, "control: internal error handling {Request}", call.Request.Command);
                call.Fail($"internal error: {e.Message}");
            }
        });
    }
}
