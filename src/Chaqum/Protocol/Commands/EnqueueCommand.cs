using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Protocol.Commands;

/// <summary>enqueue [-F] [-g GROUP] [-m MAXPROC] [-c MAXCPU] [-l MAXLOAD] [-M MINMEM]
/// [-P MAXPRESSURE] [-t TIMEOUT] [-p PRIO] [-k KEY] [-a JOBID]... [-r RETRIES] -- SCRIPT [ARG...]
/// → S JOBID</summary>
public sealed class EnqueueCommand(CommandServices services) : ICommand
{
    public string Verb => "enqueue";
    public string OptionSpec => "Fg:m:c:l:M:P:B:t:p:k:a:r:";

    public void Run(CommandCall call)
    {
        var o = call.Options;
        var script = JobOptionsParser.Script(services.Tree, call);
        string? group = JobOptionsParser.Group(o);
        var limits = JobOptionsParser.Limits(o);
        if (group is null && !limits.IsEmpty)
        {
            // The original daemon ignored limits without a group; trees rely on that.
            services.Log.LogWarning("{Job}: -m/-c/-l/-M/-P without -g GROUP are ignored", call.Caller.Id);
            limits = GroupLimits.Unchanged;
        }
        var job = services.Scheduler.Enqueue(new EnqueueRequest(script, JobOptionsParser.Arguments(call))
        {
            Parent = call.Caller,
            GroupName = group,
            Limits = limits,
            Options = JobOptionsParser.Options(o),
            Priority = JobOptionsParser.Priority(o),
            Dependencies = o.All('a'),
        });
        call.Ok(job.Id);
    }
}
