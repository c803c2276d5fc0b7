using System.Text.Json;
using Chaqum.Control.Messages;

namespace Chaqum.Control.Requests;

/// <summary>snapshot → all state at one moment: jobs (with ended ones still held), groups,
/// repeats. Two snapshots can be compared with chaqumctl diff.</summary>
public sealed class SnapshotRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Snapshot.Name;

    public void Handle(ControlCall call)
    {
        var s = services.Scheduler;
        // Everything is taken now, on the loop; the jobs' JSON is written off it.
        var takenAt = JobView.Time(DateTimeOffset.Now);
        bool stopping = s.Stopping;
        var groups = GroupsRequest.List(services);
        var repeats = RepeatsRequest.List(services);
        var jobs = JobView.ListOf(s.Jobs.OrderBy(j => j.Number), services);
        // A Snapshot, written as it is made.
        call.ReplyStreamed(w =>
        {
            w.WriteStartObject();
            w.WriteString("taken_at", takenAt);
            w.WriteString("tree", services.Tree.Root);
            w.WriteNumber("daemon_pid", Environment.ProcessId);
            w.WriteBoolean("stopping", stopping);
            w.WritePropertyName("jobs");
            jobs(w);
            w.WritePropertyName("groups");
            JsonSerializer.Serialize(w, groups, ControlJson.Default.IReadOnlyListGroupInfo);
            w.WritePropertyName("repeats");
            JsonSerializer.Serialize(w, repeats, ControlJson.Default.IReadOnlyListRepeatInfo);
            w.WriteEndObject();
        });
    }
}
