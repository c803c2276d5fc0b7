using System.Diagnostics;
using Chaqum.Control.Messages;
using Chaqum.Processes;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>status → version, uptime, the jobs held counted by state, processes started
/// and attempts ended since the start, the daemon's own memory and how long this request
/// waited for the loop. Counts, never lists: as cheap with 100 000 queued jobs as with
/// none (one pass over them, no views built).</summary>
public sealed class StatusRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Status.Name;

    public void Handle(ControlCall call)
    {
        var lag = Stopwatch.GetElapsedTime(call.PostedAt);
        var byState = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var job in services.Scheduler.Jobs)
        {
            // The running ones' word needs /proc (paused, stopped): few of them.
            string word = job.State == JobState.Running || job.Held ? JobView.State(job) : job.State.Word();
            byState[word] = byState.GetValueOrDefault(word) + 1;
        }
        call.Reply(ControlVerbs.Status, new StatusResult
        {
            Version = Program.Version,
            Tree = services.Tree.Root,
            Pid = Environment.ProcessId,
            StartedAt = JobView.Time(services.StartedAt),
            UptimeSeconds = (DateTimeOffset.Now - services.StartedAt).TotalSeconds,
            Stopping = services.Scheduler.Stopping,
            Jobs = byState,
            Spawns = services.Counters?.Spawns ?? 0,
            Exits = services.Counters?.Exits ?? new Dictionary<string, long>(),
            Repeats = services.Scheduler.Repeats.Count(),
            RssBytes = ProcStat.RssBytes(Environment.ProcessId) ?? 0,
            LoopLagSeconds = lag.TotalSeconds,
            EventSubscribers = services.Events?.Subscribers ?? 0,
        });
    }
}
