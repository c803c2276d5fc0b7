using System.Text.Json.Nodes;
using Chaqum.Logging;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>
/// log {id, lines, follow} → the job's output: the last `lines` lines (all with -1) as
/// events, then, with follow, each new line as it comes, until the job ends. The final
/// answer carries the job's state and status (what `chaqumctl run` exits with). Works for
/// jobs the daemon no longer holds, from their output file.
/// </summary>
public sealed class LogRequest(ControlServices services) : IControlRequest
{
    public string Name => "log";

    public static JsonArray Lines(IEnumerable<OutputLine> lines) =>
        new(lines.Select(l => (JsonNode?)Line(l)).ToArray());

    public static JsonObject Line(OutputLine l) => new()
    {
        ["time"] = JobView.Time(l.Time),
        ["stream"] = l.StreamWord,
        ["level"] = OutputLine.LevelWord(l.Level),
        ["text"] = l.Text,
    };

    public void Handle(ControlCall call)
    {
        var id = call.Request.Text("id") ?? throw new ControlException("log needs a job id");
        var output = services.Output ?? throw new ControlException("job output is not kept (no state directory)");
        int lines = call.Request.Int("lines") ?? -1;
        bool follow = call.Request.Flag("follow");
        var job = services.Scheduler.Find(id);
        if (job is null && !File.Exists(output.PathOf(id)) && !File.Exists(output.PathOf(id) + ".1"))
            throw new ControlException($"no job '{id}' and no output of it");

        foreach (var line in output.Tail(id, lines)) call.Event(new JsonObject { ["line"] = Line(line) });

        if (!follow || job is null || job.State.IsFinished())
        {
            call.Reply(Final(job));
            return;
        }
        Follow(call, services, job);
    }

    /// <summary>Streams the job's new lines as events; answers when it ends.</summary>
    public static void Follow(ControlCall call, ControlServices services, Job job)
    {
        var output = services.Output ?? throw new ControlException("job output is not kept (no state directory)");
        var subscription = output.Follow(job.Id, line => call.Event(new JsonObject { ["line"] = Line(line) }));
        void Ended(Job j)
        {
            subscription.Dispose();
            call.Reply(Final(j));
        }
        job.OnFinished(Ended);
        call.OnCancel(() =>
        {
            subscription.Dispose();
            job.RemoveFinishWatcher(Ended);
        });
    }

    private static JsonObject Final(Job? job) => new()
    {
        ["id"] = job?.Id,
        ["state"] = job is null ? null : JobView.State(job),
        ["status"] = job is not null && job.State.IsFinished() ? job.Status.Wire : null,
        ["exit_code"] = job?.State.IsFinished() == true ? job.Status.ExitCode : null,
        ["signal"] = job?.State.IsFinished() == true ? job.Status.Signal : null,
    };
}
