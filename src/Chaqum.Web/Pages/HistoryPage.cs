using Chaqum.History;
using Chaqum.Web.Api;
using Chaqum.Web.Daemon;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>/history: past runs from the history database (no daemon needed), filtered
/// by script, job, failures and time; with a script, plots of its runtime over time and of
/// its successes and failures.</summary>
public static class HistoryPage
{
    public const int Shown = 200;

    public static async Task<IResult> Render(HttpContext context, HistoryReader history, DaemonProbe hub, string? script, string? id, bool? failed, string? since)
    {
        static string? Given(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
        script = Given(script); id = Given(id); since = Given(since);
        var filter = H($"""
            <form method="get" action="/history" class="filter">
            <label>script <input name="script" value="{script ?? ""}" size="14"></label>
            <label>job <input name="id" value="{id ?? ""}" size="12"></label>
            <label>since <input name="since" value="{since ?? ""}" size="8" placeholder="1d"></label>
            <label><input type="checkbox" name="failed" value="true"{(failed == true ? new Html(" checked") : Html.Empty)}> failed only</label>
            <button>Show</button>
            </form>
            """);
        DateTimeOffset? from;
        try { from = Since.Parse(since); }
        catch (SubmissionException e) { return Layout.Page(context, "History", H($"{filter}<p class=\"error\">{e.Message}</p>"), hub.Down, status: 400); }
        List<RunRecord> runs, plotted = [];
        try
        {
            using var store = await history.OpenAsync();
            runs = store?.Query(new HistoryQuery { Script = script, Id = id, FailedOnly = failed == true, Since = from, Limit = Shown }) ?? [];
            if (script is not null && store is not null)
                plotted = store.Query(new HistoryQuery { Script = script, Since = from ?? DateTimeOffset.Now.AddDays(-30), Limit = 5000 });
        }
        catch (HistoryUnavailableException e) { return Layout.Page(context, "History", H($"{filter}<p class=\"error\">{e.Message}</p>"), hub.Down, status: 500); }

        var rows = Join(Enumerable.Reverse(runs).Select(r => H($"""
            <tr class="o-{r.Outcome}"><td><a href="{Links.Query("/history", ("id", r.Id))}">{r.Id}</a></td><td class="n">{r.Attempt}</td><td>{r.Outcome}</td>
            <td class="n">{(r.ExitCode?.ToString() ?? (r.Signal is { } s ? "-" + s : "-"))}</td><td>{Format.Time(r.StartedAt)}</td>
            <td class="n">{Format.Duration(r.RuntimeSeconds)}</td><td class="cmd"><a href="{Links.Script(r.Script)}">{r.Script}</a> {string.Join(" ", r.Args)}</td></tr>
            """)));
        var table = runs.Count == 0 ? H($"<p>No runs recorded{(script is null && id is null ? "" : " that match")}.</p>") : H($"""
            <table><thead><tr><th>job</th><th>attempt</th><th>outcome</th><th>status</th><th>started</th><th>runtime</th><th>command</th></tr></thead>
            <tbody>{rows}</tbody></table>
            <p class="more">The newest {runs.Count} runs, newest first.</p>
            """);
        var plots = script is not null && plotted.Count == 0 ? Html.Empty : script is null ? H($"<p class=\"hint\">Choose a script (or follow one from <a href=\"/stats\">stats</a>) to see its runtime over time.</p>")
            : H($"{Plots.Runtimes(plotted, $"Runtime of {script}, each run")}{Plots.Outcomes(plotted, $"Runs of {script}")}");
        return Layout.Page(context, script is null ? "History" : $"History of {script}", H($"{filter}{plots}{table}"), hub.Down, live: "none");
    }
}
