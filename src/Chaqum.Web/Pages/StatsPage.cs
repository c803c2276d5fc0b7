using Chaqum.History;
using Chaqum.Web.Api;
using Chaqum.Web.Daemon;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>/stats: per script, from the history (no daemon needed): runs, failures,
/// median, p95 and max runtime of the successful runs, CPU, peak memory; and the whole
/// tree's successes and failures per hour or day.</summary>
public static class StatsPage
{
    public static async Task<IResult> Render(HttpContext context, HistoryReader history, DaemonProbe hub, string? since)
    {
        since = string.IsNullOrWhiteSpace(since) ? null : since.Trim();
        var filter = H($"""<form method="get" action="/stats" class="filter"><label>since <input name="since" value="{since ?? ""}" size="8" placeholder="7d"></label><button>Show</button></form>""");
        List<ScriptStats> stats;
        List<RunRecord> recent;
        try
        {
            var from = Since.Parse(since);
            using var store = await history.OpenAsync();
            stats = store?.Stats(from) ?? [];
            recent = store?.Query(new HistoryQuery { Since = from ?? DateTimeOffset.Now.AddDays(-14), Limit = 20000 }) ?? [];
        }
        catch (SubmissionException e) { return Layout.Page(context, "Stats", H($"{filter}<p class=\"error\">{e.Message}</p>"), hub.Down, status: 400); }
        catch (HistoryUnavailableException e) { return Layout.Page(context, "Stats", H($"{filter}<p class=\"error\">{e.Message}</p>"), hub.Down, status: 500); }

        var rows = Join(stats.Select(s => H($"""
            <tr><td><a href="{Links.Script(s.Script)}">{s.Script}</a></td><td class="n">{s.Runs}</td><td class="n">{s.Failures}</td>
            <td class="n">{Format.Duration(s.MedianSeconds)}</td><td class="n">{Format.Duration(s.P95Seconds)}</td><td class="n">{Format.Duration(s.MaxSeconds)}</td>
            <td class="n">{Format.Duration(s.CpuSeconds)}</td><td class="n">{Format.Bytes(s.MaxRssBytes)}</td></tr>
            """)));
        var table = stats.Count == 0 ? H($"<p>No runs recorded.</p>") : H($"""
            <table><thead><tr><th>script</th><th>runs</th><th>failed</th><th>median</th><th>p95</th><th>max</th><th>cpu</th><th>max rss</th></tr></thead>
            <tbody>{rows}</tbody></table>
            """);
        return Layout.Page(context, "Stats", H($"{filter}{table}{Plots.Outcomes(recent, "All runs")}"), hub.Down, live: "none");
    }
}
