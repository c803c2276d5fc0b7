using System.Text.Json.Nodes;
using Chaqum.EventLoop;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>wait {ids, timeout} → when all have ended (or at the timeout), each job's
/// state and status. Unlike the job protocol's wait, it consumes no result.</summary>
public sealed class WaitRequest(ControlServices services) : IControlRequest
{
    public string Name => "wait";

    public void Handle(ControlCall call)
    {
        var jobs = call.Request.Texts("ids").Select(services.Scheduler.Find).Where(j => j is not null).Select(j => j!).ToList();
        double timeout = call.Request.Number("timeout") ?? 30;
        ITimerHandle? timer = null;
        Action<Job>? watcher = null;
        void Answer()
        {
            if (call.Finished) return;
            timer?.Cancel();
            foreach (var j in jobs) j.RemoveFinishWatcher(watcher!);
            call.Reply(new JsonObject
            {
                ["jobs"] = new JsonArray(jobs.Select(j => (JsonNode?)new JsonObject
                {
                    ["id"] = j.Id,
                    ["state"] = JobView.State(j),
                    ["status"] = j.State.IsFinished() ? j.Status.Wire : "T",
                }).ToArray()),
            });
        }
        watcher = _ => { if (jobs.All(j => j.State.IsFinished())) Answer(); };
        if (jobs.All(j => j.State.IsFinished())) { Answer(); return; }
        foreach (var j in jobs) j.OnFinished(watcher);
        timer = services.Timers.After(TimeSpan.FromSeconds(Math.Max(0, timeout)), Answer);
        call.OnCancel(() =>
        {
            timer.Cancel();
            foreach (var j in jobs) j.RemoveFinishWatcher(watcher);
        });
    }
}
