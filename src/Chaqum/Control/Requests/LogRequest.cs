using Chaqum.Control.Messages;
using Chaqum.Logging;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>
/// log {id, lines, follow} → the job's output: the last `lines` lines (all with -1) as
/// events, then, with follow, each new line as it comes, until the job ends. The final
/// answer carries the job's state and status (what `chaqumctl run` exits with). Works for
/// jobs the daemon no longer holds, from their output file. Lines are droppable events:
/// a reader that falls behind is told how many it missed (ControlSession.MaxBacklog).
/// </summary>
public sealed class LogRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Log.Name;

    public static List<LogLine> Lines(IEnumerable<OutputLine> lines) => lines.Select(Line).ToList();

    public static LogLine Line(OutputLine l) =>
        new(JobView.Time(l.Time), l.StreamWord, OutputLine.LevelWord(l.Level), l.Text);

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.Log);
        var id = args.Id ?? throw new ControlException("log needs a job id");
        var output = services.Output ?? throw new ControlException("job output is not kept (no state directory)");
        var job = services.Scheduler.Find(id);
        if (job is null && !File.Exists(output.PathOf(id)) && !File.Exists(output.PathOf(id) + ".1"))
            throw new ControlException($"no job '{id}' and no output of it");

        foreach (var line in output.Tail(id, args.Lines ?? -1)) call.Event(new ControlEvent { Line = Line(line) }, droppable: true);

        if (!args.Follow || job is null || job.State.IsFinished())
        {
            call.Reply(ControlVerbs.Log, Final(job));
            return;
        }
        Follow(call, services, job);
    }

    /// <summary>Streams the job's new lines as events; answers when it ends.</summary>
    public static void Follow(ControlCall call, ControlServices services, Job job)
    {
        var output = services.Output ?? throw new ControlException("job output is not kept (no state directory)");
        var subscription = output.Follow(job.Id, line => call.Event(new ControlEvent { Line = Line(line) }, droppable: true),
            full: () => call.Behind, missed: call.Missed);
        void Ended(Job j)
        {
            subscription.Dispose();
            call.Reply(ControlVerbs.Log, Final(j));
        }
        job.OnFinished(Ended);
        call.OnCancel(() =>
        {
            subscription.Dispose();
            job.RemoveFinishWatcher(Ended);
        });
    }

    private static LogEnd Final(Job? job)
    {
        bool finished = job?.State.IsFinished() == true;
        return new LogEnd
        {
            Id = job?.Id,
            State = job is null ? null : JobView.State(job),
            Status = finished ? job!.Status.Wire : null,
            ExitCode = finished ? job!.Status.ExitCode : null,
            Signal = finished ? job!.Status.Signal : null,
        };
    }
}
