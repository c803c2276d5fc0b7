using Chaqum.Control.Messages;
using Chaqum.Protocol;
using Chaqum.Protocol.Commands;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>enqueue {words, follow} → the words of a protocol enqueue ("-g G -t 60 -- SCRIPT
/// ARG"), parsed exactly as a job's enqueue is; the job has no parent (the operator
/// asked). With follow (chaqumctl run), its output is streamed from its very first line,
/// and the answer comes when it ends, as for log -f.</summary>
public sealed class EnqueueJobRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Enqueue.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.Enqueue);
        var words = args.Words ?? new List<string>();
        var o = OptionParser.Parse(words, 0, JobOptionsParser.EnqueueSpec, out var error) ?? throw new ControlException($"enqueue: {error}");
        if (o.Operands.Count == 0) throw new ControlException("enqueue: missing SCRIPT");
        var script = services.Tree.Resolve(o.Operands[0]);
        var limits = JobOptionsParser.Limits(o);
        if (JobOptionsParser.Group(o) is null && !limits.IsEmpty) throw new ControlException("enqueue: -m, -c, -l, -M and -P need a group (-g GROUP)");
        var job = services.Scheduler.Enqueue(JobOptionsParser.Enqueue(script, o.Operands.Skip(1).ToArray(), o, limits, services.Scheduler));
        if (args.Follow)
        {
            call.Event(new ControlEvent { Enqueued = job.Id, State = JobView.State(job) });
            LogRequest.Follow(call, services, job);
            return;
        }
        call.Reply(ControlVerbs.Enqueue, new EnqueueResult(job.Id, JobView.State(job)));
    }
}
