using Chaqum.Control.Messages;
using Chaqum.EventLoop;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>wait {ids, timeout} → when all have ended (or at the timeout), each job's
/// state and status. Unlike the job protocol's wait, it consumes no result.</summary>
public sealed class WaitRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Wait.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.Wait);
        var jobs = (args.Ids ?? new List<string>()).Select(services.Scheduler.Find).Where(j => j is not null).Select(j => j!).ToList();
        double timeout = args.Timeout ?? 30;
        if (!double.IsFinite(timeout)) throw new ControlException("wait: 'timeout' must be a number of seconds");
        ITimerHandle? timer = null;
        Action<Job>? watcher = null;
        void Answer()
        {
            if (call.Finished) return;
            timer?.Cancel();
            foreach (var j in jobs) j.RemoveFinishWatcher(watcher!);
            call.Reply(ControlVerbs.Wait, new WaitResult(jobs
                .Select(j => new WaitedJob(j.Id, JobView.State(j), j.State.IsFinished() ? j.Status.Wire : "T")).ToList()));
        }
        watcher = _ => { if (jobs.All(j => j.State.IsFinished())) Answer(); };
        if (jobs.All(j => j.State.IsFinished())) { Answer(); return; }
        foreach (var j in jobs) j.OnFinished(watcher);
        // Beyond a day, a waiting client is better served by waiting again.
        timer = services.Timers.After(TimeSpan.FromSeconds(Math.Clamp(timeout, 0, 86400)), Answer);
        call.OnCancel(() =>
        {
            timer.Cancel();
            foreach (var j in jobs) j.RemoveFinishWatcher(watcher);
        });
    }
}
