using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.Web.Daemon;
using Chaqum.Web.Live;
using Prometheus;

namespace Chaqum.Web.Metrics;

/// <summary>
/// /metrics for Prometheus. At each scrape, the daemon's status and groups requests give
/// the gauges and its own counters (jobs by state and by group, processes started,
/// attempts ended by outcome, its memory and event-loop lag): two cheap requests, counts
/// not lists, whatever the queue holds. The runtime histogram per script is fed by the
/// events stream (each "ended" event's runtime), so it counts the runs that ended while
/// chaqum-web was watching.
/// </summary>
public sealed class DaemonMetrics
{
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly DaemonLink _daemon;
    private readonly Gauge _up, _jobs, _groupJobs, _rss, _lag, _uptime, _subscribers;
    private readonly Counter _spawns, _exits;
    private readonly Histogram _runtime;
    private readonly HashSet<(string, string)> _seenGroups = new();
    private readonly HashSet<string> _seenStates = new();

    public DaemonMetrics(DaemonLink daemon, EventHub hub)
    {
        _daemon = daemon;
        var f = Prometheus.Metrics.WithCustomRegistry(_registry);
        _up = f.CreateGauge("chaqum_daemon_up", "1 when the daemon answers on its control socket, else 0");
        _jobs = f.CreateGauge("chaqum_jobs", "Jobs the daemon holds, by state", "state");
        _groupJobs = f.CreateGauge("chaqum_group_jobs", "Running and queued jobs per group (group \"-\": no group)", "group", "state");
        _spawns = f.CreateCounter("chaqum_spawns_total", "Processes started since the daemon started");
        _exits = f.CreateCounter("chaqum_exits_total", "Attempts ended since the daemon started, by outcome", "outcome");
        _rss = f.CreateGauge("chaqum_daemon_rss_bytes", "The daemon's own resident memory");
        _lag = f.CreateGauge("chaqum_daemon_loop_lag_seconds", "How long the scrape's status request waited for the daemon's event loop");
        _uptime = f.CreateGauge("chaqum_daemon_uptime_seconds", "Seconds since the daemon started");
        _subscribers = f.CreateGauge("chaqum_daemon_event_subscribers", "Clients following the daemon's events");
        _runtime = f.CreateHistogram("chaqum_job_runtime_seconds", "Runtime of the runs that ended while chaqum-web watched, per script", new HistogramConfiguration
        {
            LabelNames = ["script", "outcome"],
            Buckets = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400],
        });
        hub.Listen(e =>
        {
            if (e.Kind is "ended" or "retrying" && e.RuntimeSeconds is { } seconds && e.Script is { } script)
                _runtime.WithLabels(script, e.Outcome ?? "unknown").Observe(seconds);
        });
        _registry.AddBeforeCollectCallback(Refresh);
    }

    private async Task Refresh(CancellationToken cancel)
    {
        try
        {
            var status = await _daemon.CallAsync(ControlVerbs.Status);
            var groups = await _daemon.CallAsync(ControlVerbs.Groups);
            _up.Set(1);
            foreach (var state in _seenStates) if (!status.Jobs.ContainsKey(state)) _jobs.WithLabels(state).Set(0);
            foreach (var (state, count) in status.Jobs) { _jobs.WithLabels(state).Set(count); _seenStates.Add(state); }
            _spawns.IncTo(status.Spawns);
            foreach (var (outcome, count) in status.Exits) _exits.WithLabels(outcome).IncTo(count);
            _rss.Set(status.RssBytes);
            _lag.Set(status.LoopLagSeconds);
            _uptime.Set(status.UptimeSeconds);
            _subscribers.Set(status.EventSubscribers);
            var now = new HashSet<(string, string)>();
            foreach (var g in groups.Groups)
            {
                string name = g.Name ?? "-";
                _groupJobs.WithLabels(name, "running").Set(g.Running);
                _groupJobs.WithLabels(name, "queued").Set(g.Queued);
                now.Add((name, "running")); now.Add((name, "queued"));
            }
            // A group the daemon forgot is gone from the metrics too.
            foreach (var old in _seenGroups.Except(now)) _groupJobs.RemoveLabelled(old.Item1, old.Item2);
            _seenGroups.Clear();
            _seenGroups.UnionWith(now);
        }
        catch (Exception e) when (e is DaemonDownException or ControlFailedException)
        {
            _up.Set(0);
        }
    }

    public void Map(WebApplication app) => app.MapMetrics("/metrics", _registry).ExcludeFromDescription();
}
