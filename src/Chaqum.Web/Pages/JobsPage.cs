using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.Web.Daemon;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>/jobs: the jobs the daemon holds, filtered by state, group and script, oldest
/// or longest running first, 50 a page. Filtering and paging are the daemon's (ps with
/// offset and limit), so 100 000 queued jobs make a page of 50 all the same.</summary>
public static class JobsPage
{
    public const int PerPage = 50;

    public static async Task<IResult> Render(HttpContext context, DaemonLink daemon, string? state, string? group, string? script, string? sort, int? page, bool? all)
    {
        int number = Math.Max(1, page ?? 1);
        static string? Given(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
        var args = new PsArgs
        {
            All = all == true, State = Given(state), Group = Given(group), Script = Given(script),
            Sort = sort == "runtime" ? "runtime" : null, Offset = (number - 1) * PerPage, Limit = PerPage,
        };
        var filter = H($"""
            <form method="get" action="/jobs" class="filter">
            <label>state <select name="state">{Options(args.State, "", "running", "paused", "stopped", "queued", "held", "pending", "scheduled", "retrying", "done", "cancelled")}</select></label>
            <label>group <input name="group" value="{args.Group ?? ""}" size="10"></label>
            <label>script <input name="script" value="{args.Script ?? ""}" size="14"></label>
            <label>sort <select name="sort">{Options(args.Sort ?? "id", "id", "runtime")}</select></label>
            <label><input type="checkbox" name="all" value="true"{(args.All ? new Html(" checked") : Html.Empty)}> ended too</label>
            <button>Show</button>
            </form>
            """);
        JobsResult result;
        try { result = await daemon.CallAsync(ControlVerbs.Ps, args); }
        catch (DaemonDownException e) { return Layout.Page(context, "Jobs", filter, e.Message); }
        catch (ControlFailedException e) { return Layout.Page(context, "Jobs", H($"{filter}<p class=\"error\">{e.Message}</p>"), status: 400); }

        int total = result.Total ?? result.Jobs.Count;
        int pages = Math.Max(1, (total + PerPage - 1) / PerPage);
        string Url(int p) => Links.Query("/jobs", ("state", args.State), ("group", args.Group), ("script", args.Script), ("sort", args.Sort),
            ("all", args.All ? "true" : null), ("page", p == 1 ? null : p.ToString()));
        var pager = H($"""
            <nav class="pager">{(number > 1 ? H($"<a href=\"{Url(number - 1)}\" rel=\"prev\">← newer</a>") : Html.Empty)}
            page {number} of {pages} ({total} jobs)
            {(number < pages ? H($"<a href=\"{Url(number + 1)}\" rel=\"next\">older →</a>") : Html.Empty)}</nav>
            """);
        return Layout.Page(context, "Jobs", H($"{filter}{pager}{JobsTable.Render(result.Jobs, result.Jobs.Count, "matching")}"));
    }

    private static Html Options(string? selected, params string[] values) =>
        Join(values.Select(v => H($"<option{(v == (selected ?? "") ? new Html(" selected") : Html.Empty)}>{v}</option>")));
}
