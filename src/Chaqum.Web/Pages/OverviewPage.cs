using Chaqum.Control.Messages;
using Chaqum.Web.Daemon;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>/: what the daemon is, its jobs by state, its groups (limits, what holds each
/// back, pause and resume), its repeats with their next firing, and the jobs running
/// now, longest first.</summary>
public static class OverviewPage
{
    public static async Task<IResult> Render(HttpContext context, DaemonLink daemon)
    {
        StatusResult status;
        GroupsResult groups;
        RepeatsResult repeats;
        JobsResult running;
        try
        {
            status = await daemon.CallAsync(ControlVerbs.Status);
            groups = await daemon.CallAsync(ControlVerbs.Groups);
            repeats = await daemon.CallAsync(ControlVerbs.Repeats);
            running = await daemon.CallAsync(ControlVerbs.Ps, new PsArgs { State = "running", Sort = "runtime", Limit = 50 });
        }
        catch (DaemonDownException e)
        {
            return Layout.Page(context, "Overview", H($"<p>Nothing to show while the daemon is away: see <a href=\"/history\">history</a> and <a href=\"/stats\">stats</a>.</p>"), e.Message);
        }

        var states = Join(status.Jobs.OrderBy(s => Order(s.Key)).Select(s =>
            H($"<li><a href=\"{Links.Query("/jobs", ("state", s.Key))}\">{Layout.StateBadge(s.Key)} {s.Value}</a></li>")));
        var facts = H($"""
            <dl class="facts">
            <dt>version</dt><dd>{status.Version}</dd>
            <dt>up</dt><dd>{Format.Duration(status.UptimeSeconds)} (since {Format.Time(status.StartedAt)})</dd>
            <dt>pid</dt><dd>{status.Pid}</dd>
            <dt>started</dt><dd>{status.Spawns} processes</dd>
            <dt>memory</dt><dd>{Format.Bytes(status.RssBytes)}</dd>
            {(status.Stopping ? new Html("<dt>stopping</dt><dd>an orderly stop is under way</dd>") : Html.Empty)}
            </dl>
            <ul class="states">{(status.Jobs.Count == 0 ? new Html("<li>no jobs</li>") : states)}</ul>
            """);

        var token = Layout.Token(context);
        var groupRows = Join(groups.Groups.Select(g =>
        {
            string name = g.Name ?? "-";
            string action = g.Paused ? "resume" : "pause";
            return H($"""
                <tr><td>{(g.Name is null ? new Html("<i>(none)</i>") : H($"<a href=\"{Links.Query("/jobs", ("group", g.Name))}\">{g.Name}</a>"))}</td>
                <td class="n">{(g.MaxProcs == 0 ? "-" : g.MaxProcs.ToString())}</td><td class="n">{g.Running}</td><td class="n">{g.Queued}</td>
                <td>{(g.Paused ? "paused" + (g.PausedReason is null ? "" : ": " + g.PausedReason) : "no")}</td>
                <td>{g.Barriers ?? "-"}</td><td>{g.HeldBy ?? "-"}</td>
                <td><form method="post" action="/groups/{Uri.EscapeDataString(name)}/{action}">{token}<button>{action}</button></form></td></tr>
                """);
        }));
        var groupTable = groups.Groups.Count == 0 ? H($"<p>No groups.</p>") : H($"""
            <table><thead><tr><th>group</th><th>max</th><th>running</th><th>queued</th><th>paused</th><th>barriers</th><th>held by</th><th></th></tr></thead>
            <tbody>{groupRows}</tbody></table>
            """);

        var repeatRows = Join(repeats.Repeats.Select(r => H($"""
            <tr><td>{r.Id}</td><td><a href="{Links.Script(r.Script)}">{r.Script}</a> {string.Join(" ", r.Args)}</td><td>{r.Schedule}</td>
            <td>{(r.Disabled ? "disabled" : "enabled")}</td><td>{(r.NextAt is null ? (r.Watch is null ? "-" : "on change") : Format.Time(r.NextAt))}</td>
            <td>{(r.LastJob is null ? Html.Empty : Layout.JobLink(r.LastJob))} {r.LastState ?? ""}</td><td class="n">{r.Fired}</td><td class="n">{r.Skipped}</td></tr>
            """)));
        var repeatTable = repeats.Repeats.Count == 0 ? H($"<p>No repeats.</p>") : H($"""
            <table><thead><tr><th>repeat</th><th>command</th><th>schedule</th><th>state</th><th>next</th><th>last job</th><th>fired</th><th>skipped</th></tr></thead>
            <tbody>{repeatRows}</tbody></table>
            """);

        var body = H($"""
            {facts}
            <h2>Running now</h2>
            {JobsTable.Render(running.Jobs, running.Total ?? running.Jobs.Count, "running")}
            <h2>Groups</h2>
            {groupTable}
            <h2>Repeats</h2>
            {repeatTable}
            """);
        return Layout.Page(context, "Overview", body);
    }

    private static int Order(string state) => Array.IndexOf(
        ["running", "paused", "stopped", "starting", "queued", "held", "pending", "scheduled", "retrying", "done", "cancelled"], state) is var i and >= 0 ? i : 99;
}
