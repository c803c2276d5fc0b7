using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.History;
using Chaqum.Web.Daemon;
using Chaqum.Web.Live;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>/jobs/ID for a job the daemon no longer holds (it ended and nobody waits for
/// its result): what the history recorded of its attempts, and its output from its
/// output file.</summary>
public static class EndedJobPage
{
    public static async Task<IResult?> Render(HttpContext context, DaemonLink daemon, HistoryReader history, string id)
    {
        List<RunRecord> runs;
        try
        {
            using var store = await history.OpenAsync();
            runs = store?.Query(new HistoryQuery { Id = id, Limit = 100 }) ?? [];
        }
        catch (HistoryUnavailableException) { return null; }
        if (runs.Count == 0) return null;
        var last = runs[^1];
        string state = last.Outcome is "cancelled" or "dependency_failed" or "spawn_failed" or "dropped" ? "cancelled" : last.Outcome == "lost" ? "lost" : "done";
        string status = last.ExitCode?.ToString() ?? (last.Signal is { } s ? "-" + s : "N");

        var lines = new List<LogLine>();
        try
        {
            await foreach (var item in LogFollower.Follow(daemon, id, JobPage.OutputLines, false, context.RequestAborted))
                if (item.Line is { } l) lines.Add(l);
        }
        catch (Exception e) when (e is DaemonDownException or ControlFailedException) { }

        var attempts = Join(runs.Select(r => H($"""
            <tr class="o-{r.Outcome}"><td class="n">{r.Attempt}</td><td>{r.Outcome}</td><td class="n">{(r.ExitCode?.ToString() ?? (r.Signal is { } sig ? "-" + sig : "-"))}</td>
            <td>{Format.Time(r.StartedAt)}</td><td>{Format.Time(r.EndedAt)}</td><td class="n">{Format.Duration(r.RuntimeSeconds)}</td>
            <td class="n">{Format.Duration(r.CpuUserSeconds + r.CpuSystemSeconds)}</td></tr>
            """)));
        var body = H($"""
            <dl class="facts">
            <dt>command</dt><dd class="cmd">{Format.Command(last.Script, last.Args)}</dd>
            <dt>state</dt><dd id="job-state">{Layout.StateBadge(state)} status {status} ({last.Outcome})</dd>
            <dt>group</dt><dd>{last.Group ?? "-"}</dd>
            <dt>parent</dt><dd>{(last.Parent is null ? new Html("-") : Layout.JobLink(last.Parent))}</dd>
            <dt>enqueued</dt><dd>{Format.Time(last.EnqueuedAt)}</dd>
            </dl>
            <p class="hint">The daemon no longer holds this job; this is what the <a href="{Links.Query("/history", ("id", id))}">history</a> recorded.</p>
            <table><thead><tr><th>attempt</th><th>outcome</th><th>status</th><th>started</th><th>ended</th><th>runtime</th><th>cpu</th></tr></thead><tbody>{attempts}</tbody></table>
            <h2>Output</h2>
            <pre id="output" data-follow="">{Join(lines.Select(JobPage.OutputLine))}</pre>
            """);
        return Layout.Page(context, id, body, live: "none");
    }
}
