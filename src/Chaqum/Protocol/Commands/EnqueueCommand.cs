using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Protocol.Commands;

/// <summary>enqueue [-F] [-g GROUP] [-m MAXPROC] [-c MAXCPU] [-l MAXLOAD] [-M MINMEM]
/// [-P MAXPRESSURE] [-t TIMEOUT] [-p PRIO] [-k KEY] [-a JOBID]... [-r RETRIES] [-d DELAY | -A TIME]
/// [-H] [-U] [-R] -- SCRIPT [ARG...]
/// → S JOBID</summary>
public sealed class EnqueueCommand(CommandServices services) : ICommand
{
    public string Verb => "enqueue";
    public string OptionSpec => JobOptionsParser.EnqueueSpec;

    public void Run(CommandCall call)
    {
        var o = call.Options;
        var script = JobOptionsParser.Script(services.Tree, call);
        var limits = JobOptionsParser.Limits(o);
        if (JobOptionsParser.Group(o) is null && !limits.IsEmpty)
        {
            // The original daemon ignored limits without a group; trees rely on that.
            services.Log.LogWarning("{Job}: -m/-c/-l/-M/-P without -g GROUP are ignored", call.Caller.Id);
            limits = GroupLimits.Unchanged;
        }
        var request = JobOptionsParser.Enqueue(script, JobOptionsParser.Arguments(call), o, limits, services.Scheduler);
        var job = services.Scheduler.Enqueue(request with { Parent = call.Caller });
        call.Ok(job.Id);
    }
}
