using Chaqum.EventLoop;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Protocol.Commands;

/// <summary>
/// The waiting shared by wait, waitjobs and killjobs: answers "S ID STATUS..." when all
/// (or, with first, any) of the jobs have ended or the timeout expires, listing the jobs
/// in the order asked, "T" for those still queued or running. Unknown ids are left out
/// and logged. A result reported here is consumed: the next wait will not find it.
/// </summary>
public sealed class JobWait
{
    private readonly CommandCall _call;
    private readonly Scheduler _scheduler;
    private readonly List<Job> _jobs;
    private readonly bool _first;
    private readonly Action<Job> _onFinished;
    private ITimerHandle? _timer;
    private bool _done;

    private JobWait(CommandCall call, Scheduler scheduler, List<Job> jobs, bool first)
    {
        _call = call;
        _scheduler = scheduler;
        _jobs = jobs;
        _first = first;
        _onFinished = _ => Check();
    }

    /// <summary>Looks the ids up, leaving out (and logging) unknown ones.</summary>
    public static List<Job> Known(CommandServices services, CommandCall call)
    {
        if (call.Operands.Count == 0) return NoJobs;
        var jobs = new List<Job>();
        var seen = new HashSet<string>();
        foreach (var id in call.Operands)
        {
            if (!seen.Add(id)) continue;
            if (services.Scheduler.Find(id) is { } job) jobs.Add(job);
            else services.Log.LogWarning("{Job}: {Verb}: unknown job id '{Id}' left out of the reply", call.Caller.Id, call.Verb, id);
        }
        return jobs;
    }

    /// <summary>Shared and never added to: "wait --" (a ping) allocates no list.</summary>
    private static readonly List<Job> NoJobs = new(0);

    public static void Start(CommandServices services, CommandCall call, List<Job> jobs, bool first, TimeSpan? timeout)
    {
        if (jobs.Count == 0)
        {
            call.Ok();
            return;
        }
        var wait = new JobWait(call, services.Scheduler, jobs, first);
        if (wait.Satisfied() || timeout == TimeSpan.Zero)
        {
            wait.Answer();
            return;
        }
        foreach (var job in jobs)
        {
            if (!job.State.IsActive()) continue;
            job.OnFinished(wait._onFinished);
            job.AddWaiter(call.Caller);
        }
        if (timeout is { } t) wait._timer = services.Timers.After(t, wait.Answer);
        call.OnCancel(wait.Detach);
    }

    private bool Satisfied()
    {
        if (_jobs.Count == 0) return true;
        return _first ? _jobs.Any(j => j.State.IsFinished()) : _jobs.All(j => j.State.IsFinished());
    }

    private void Check()
    {
        if (!_done && Satisfied()) Answer();
    }

    private void Answer()
    {
        if (_done) return;
        Detach();
        var words = new List<string>(_jobs.Count * 2);
        foreach (var job in _jobs)
        {
            words.Add(job.Id);
            if (job.State.IsFinished())
            {
                words.Add(job.Status.Wire);
                _scheduler.Consume(job);
            }
            else
            {
                words.Add("T");
            }
        }
        _call.Ok(words);
    }

    private void Detach()
    {
        _done = true;
        _timer?.Cancel();
        foreach (var job in _jobs)
        {
            job.RemoveFinishWatcher(_onFinished);
            job.RemoveWaiter(_call.Caller);
        }
    }
}
