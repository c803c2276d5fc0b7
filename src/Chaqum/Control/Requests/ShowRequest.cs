using System.Text.Json.Nodes;
using Chaqum.Control.History;
using Chaqum.History;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>show {id, lines} → everything known about a job: its view, command line, parent
/// chain, children, who waits on it, who depends on it, CPU and memory, last output lines.</summary>
public sealed class ShowRequest(ControlServices services) : IControlRequest
{
    public string Name => "show";

    public void Handle(ControlCall call)
    {
        var id = call.Request.Text("id") ?? throw new ControlException("show needs a job id");
        var job = services.Scheduler.Find(id) ?? throw new ControlException($"no job '{id}' known to the daemon (see chaqumctl history)");
        int lines = call.Request.Int("lines") ?? 10;
        var view = services.View(job).ToJson();

        var chain = new JsonArray();
        for (var p = job.Parent ?? job.Owner; p is not null; p = p.Parent ?? p.Owner) chain.Add(p.Id);
        view["command"] = Chaqum.Client.ShellWords.Join(new[] { job.Script.Relative }.Concat(job.Args));
        view["path"] = job.Script.Absolute;
        view["parents"] = chain;
        view["children"] = new JsonArray(job.Children.Select(c => (JsonNode?)new JsonObject { ["id"] = c.Id, ["state"] = JobView.State(c) }).ToArray());
        view["waited_on_by"] = new JsonArray(job.Waiters.Select(w => (JsonNode?)w.Id).Distinct().ToArray());
        view["dependents"] = new JsonArray(job.Dependents.Select(d => (JsonNode?)d.Id).ToArray());
        view["timeout_seconds"] = job.Options.Timeout?.TotalSeconds;
        view["retries"] = job.Options.Retries;
        view["key"] = job.Options.Key;
        view["end_reason"] = job.EndReason;

        if (job.State == JobState.Running)
        {
            var members = ProcStat.GroupMembers(job.Pid);
            view["processes"] = members.Count;
            view["cpu_seconds"] = members.Sum(p => ProcStat.CpuTicks(p) ?? 0) / ProcStat.TicksPerSecond;
            view["rss_bytes"] = members.Sum(p => ProcStat.RssBytes(p) ?? 0);
        }
        else if (job.State == JobState.Done)
        {
            view["cpu_seconds"] = job.Usage.UserCpu.TotalSeconds + job.Usage.SystemCpu.TotalSeconds;
            view["max_rss_bytes"] = job.Usage.MaxRssBytes;
        }

        var usual = services.History?.UsualFor(job.Script.Relative);
        view["usual_runs"] = usual?.Runs ?? 0;
        view["usual_p95_seconds"] = usual?.P95;
        view["output"] = LogRequest.Lines(services.Output?.Tail(job.Id, lines) ?? new());
        call.Reply(new JsonObject { ["job"] = view });
    }
}
