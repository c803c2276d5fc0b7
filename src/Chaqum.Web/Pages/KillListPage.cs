using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.Web.Daemon;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>/killlist: the morning's kill list. The jobs running longer than usual, a
/// checkbox each (none checked); the post kills exactly the checked ones that are still
/// candidates (as chaqumctl killlist: a form cannot add jobs), and the page says what
/// happened to each.</summary>
public static class KillListPage
{
    public static async Task<IResult> Render(HttpContext context, DaemonLink daemon, Html? result = null)
    {
        JobsResult candidates;
        try { candidates = await daemon.CallAsync(ControlVerbs.Ps, new PsArgs { Longer = true, Sort = "runtime" }); }
        catch (DaemonDownException e) { return Layout.Page(context, "Kill list", result ?? Html.Empty, e.Message); }

        Html list;
        if (candidates.Jobs.Count == 0) list = H($"<p>No job runs longer than usual.</p>");
        else
        {
            var rows = Join(candidates.Jobs.Select(j => H($"""
                <tr><td><input type="checkbox" name="id" value="{j.Id}" id="kill-{j.Id}"></td><td><label for="kill-{j.Id}">{j.Id}</label> <a href="{Links.Job(j.Id)}">(show)</a></td>
                <td>{j.Group ?? "-"}</td><td class="cmd">{Format.Command(j.Script, j.Args)}</td>
                <td class="n">{Format.Duration(j.RuntimeSeconds)}</td><td class="n">{Format.Duration(j.UsualSeconds)}</td></tr>
                """)));
            list = H($"""
                <form method="post" action="/killlist">{Layout.Token(context)}
                <table><thead><tr><th></th><th>job</th><th>group</th><th>command</th><th>runtime</th><th>usually</th></tr></thead><tbody>{rows}</tbody></table>
                <p><button class="danger" id="kill-checked">Kill the checked jobs</button> (SIGTERM, then SIGKILL after the daemon's grace period)</p>
                </form>
                """);
        }
        return Layout.Page(context, "Kill list", H($"{result ?? Html.Empty}<p class=\"hint\">Jobs running longer than usual for their script: past twice the median of its recent successful runs, or past their 95th percentile once there are 20.</p>{list}"), live: "none");
    }

    public static async Task<IResult> Kill(HttpContext context, DaemonLink daemon)
    {
        var form = await Forms.ReadAsync(context);
        if (form is null) return Forms.Refused(context);
        var chosen = form["id"].Where(i => !string.IsNullOrEmpty(i)).Select(i => i!).Distinct().ToList();
        Html outcome;
        try
        {
            var candidates = (await daemon.CallAsync(ControlVerbs.Ps, new PsArgs { Longer = true })).Jobs.Select(j => j.Id).ToHashSet(StringComparer.Ordinal);
            var ids = chosen.Where(candidates.Contains).ToList();
            var gone = chosen.Where(i => !candidates.Contains(i)).ToList();
            if (ids.Count == 0 && gone.Count == 0) outcome = H($"<p class=\"notice\">Nothing was checked: nothing killed.</p>");
            else
            {
                var killed = ids.Count == 0 ? [] : (await daemon.CallAsync(ControlVerbs.Kill, new KillArgs { Ids = ids })).Killed;
                var lines = Join(killed.Select(k => H($"<li>{Layout.JobLink(k.Id)}: {(k.Was is "done" or "cancelled" ? "had already ended" : k.State == "cancelled" ? "cancelled" : "sent SIGTERM")}</li>"))
                    .Concat(gone.Select(g => H($"<li>{g}: not killed, no longer running longer than usual</li>"))));
                outcome = H($"<div class=\"notice\" id=\"killed\"><p>Killed:</p><ul>{lines}</ul></div>");
            }
        }
        catch (DaemonDownException e) { outcome = H($"<p class=\"error\">{e.Message}</p>"); }
        catch (ControlFailedException e) { outcome = H($"<p class=\"error\">{e.Message}</p>"); }
        return await Render(context, daemon, outcome);
    }
}
