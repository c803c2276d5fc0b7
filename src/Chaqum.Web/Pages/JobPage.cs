using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.Web.Daemon;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>/jobs/ID: one job, everything show says, its output following live (the
/// script reads /live/output/ID), and buttons to kill, pause, resume and renice it.</summary>
public static class JobPage
{
    public const int OutputLines = 200;

    public static async Task<IResult> Render(HttpContext context, DaemonLink daemon, string id, Html? notice = null)
    {
        var history = context.RequestServices.GetRequiredService<HistoryReader>();
        JobDetails job;
        try { job = (await daemon.CallAsync(ControlVerbs.Show, new ShowArgs { Id = id, Lines = OutputLines })).Job; }
        catch (DaemonDownException e) { return Layout.Page(context, id, H($"<p>The job is not shown while the daemon is away; <a href=\"{Links.Query("/history", ("id", id))}\">its runs</a> are.</p>"), e.Message); }
        catch (ControlFailedException e)
        {
            // A job that has ended and whose result nobody holds is forgotten by the daemon:
            // its page comes from the history (and its output file, which log still reads).
            if (await EndedJobPage.Render(context, daemon, history, id) is { } ended) return ended;
            return Layout.Page(context, id, H($"<p class=\"error\">{e.Message}.</p><p>See <a href=\"{Links.Query("/history", ("id", id))}\">its runs in the history</a>.</p>"), live: "retry", status: 404);
        }

        var links = (IEnumerable<string> ids) => ids.Any() ? Join(ids.Select(i => H($"{Layout.JobLink(i)} "))) : new Html("-");
        var facts = H($"""
            <dl class="facts">
            <dt>command</dt><dd class="cmd">{job.Command}</dd>
            <dt>state</dt><dd id="job-state">{Layout.StateBadge(job.State, job.LongerThanUsual)} {(job.Status is null ? "" : $"status {job.Status} ({job.Outcome})")}</dd>
            <dt>group</dt><dd>{job.Group ?? "-"}{(job.Slot is { } slot ? $", slot {slot}" : "")}</dd>
            <dt>pid</dt><dd>{(job.Pid is { } pid ? $"{pid} ({job.Processes} {(job.Processes == 1 ? "process" : "processes")})" : "-")}</dd>
            <dt>attempt</dt><dd>{job.Attempt} (retries {job.Retries})</dd>
            <dt>priority</dt><dd>{job.Priority}</dd>
            <dt>enqueued</dt><dd>{Format.Time(job.EnqueuedAt)}</dd>
            <dt>started</dt><dd>{Format.Time(job.StartedAt)}</dd>
            <dt>runtime</dt><dd>{Format.Duration(job.RuntimeSeconds)} {(job.UsualSeconds is null ? "(no usual runtime yet: no successful run of its script)" : $"(usually {Format.Duration(job.UsualSeconds)} over {job.UsualRuns} runs)")}{(job.LongerThanUsual ? new Html(" <span class=\"longer\">LONGER than usual</span>") : Html.Empty)}</dd>
            <dt>cpu</dt><dd>{Format.Duration(job.CpuSeconds)}</dd>
            <dt>memory</dt><dd>{Format.Bytes(job.RssBytes ?? job.MaxRssBytes)}</dd>
            <dt>parents</dt><dd>{links(job.Parents)}</dd>
            <dt>children</dt><dd>{(job.Children.Count == 0 ? new Html("-") : Join(job.Children.Select(c => H($"{Layout.JobLink(c.Id)} ({c.State}) "))))}</dd>
            <dt>waited on by</dt><dd>{links(job.WaitedOnBy)}</dd>
            <dt>dependents</dt><dd>{links(job.Dependents)}</dd>
            {(job.EndReason is null ? Html.Empty : H($"<dt>ended</dt><dd>{job.EndReason}</dd>"))}
            </dl>
            """);

        var token = Layout.Token(context);
        bool running = job.State is "running" or "paused" or "stopped";
        bool active = job.State is not ("done" or "cancelled");
        var actions = !active ? Html.Empty : H($"""
            <div class="actions">
            <form method="post" action="{Links.JobAction(id, "kill")}">{token}<button class="danger">Kill</button></form>
            {(running && job.State != "paused" ? H($"<form method=\"post\" action=\"{Links.JobAction(id, "pause")}\">{token}<button>Pause</button></form>") : Html.Empty)}
            {(job.State == "paused" ? H($"<form method=\"post\" action=\"{Links.JobAction(id, "resume")}\">{token}<button>Resume</button></form>") : Html.Empty)}
            {(running ? H($"<form method=\"post\" action=\"{Links.JobAction(id, "renice")}\">{token}<label>nice <input name=\"nice\" type=\"number\" min=\"-20\" max=\"19\" value=\"10\" size=\"3\"></label><button>Renice</button></form>") : Html.Empty)}
            </div>
            """);

        var output = Join(job.Output.Select(OutputLine));
        var body = H($"""
            {notice ?? Html.Empty}
            {actions}
            {facts}
            <h2>Output</h2>
            <p class="hint">The last {OutputLines} lines{(active ? ", then new ones as they come" : "")}. <a href="{Links.Query("/api/jobs/" + string.Join("/", id.Split('/').Select(Uri.EscapeDataString)) + "/log")}">All of it as JSON</a>.</p>
            <pre id="output" data-follow="{(active ? "/live/output/" + string.Join("/", id.Split('/').Select(Uri.EscapeDataString)) : "")}">{output}</pre>
            <p id="output-end" class="hint"></p>
            """);
        return Layout.Page(context, id, body, live: "job");
    }

    public static Html OutputLine(LogLine l) =>
        H($"<span class=\"{(l.Stream == "err" ? "err" : "out")}\">{Format.Time(l.Time)} [{l.Stream}]{(l.Level is "INF" || (l.Level == "WRN" && l.Stream == "err") ? "" : " " + l.Level)} {l.Text}</span>\n");
}
