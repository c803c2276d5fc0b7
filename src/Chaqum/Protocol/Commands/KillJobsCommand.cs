using Chaqum.Native;
using Chaqum.Scheduling;

namespace Chaqum.Protocol.Commands;

/// <summary>killjobs [-s SIGNAL] [-t SECONDS] -- JOBID... → as wait -a, after killing.
/// Queued jobs are cancelled; running ones get SIGNAL (default TERM) on their process
/// group and SIGKILL after the grace period. A job may kill only its descendants.</summary>
public sealed class KillJobsCommand(CommandServices services) : ICommand
{
    public string Verb => "killjobs";
    public string OptionSpec => "s:t:";

    public void Run(CommandCall call)
    {
        var o = call.Options;
        int signal = o.Get('s') is { } s ? Values.Signal(s) : Signals.SIGTERM;
        TimeSpan? timeout = o.Get('t') is { } t ? Values.Seconds(t, "-t (timeout)") : null;
        var jobs = JobWait.Known(services, call);
        foreach (var job in jobs)
            if (!job.IsDescendantOf(call.Caller))
                throw new ProtocolException($"not permitted: {job.Id} is not a descendant of {call.Caller.Id}");
        foreach (var job in jobs)
            if (job.State.IsActive()) services.Scheduler.Kill(job, signal, KillSource.Command);
        JobWait.Start(services, call, jobs, first: false, timeout);
    }
}
