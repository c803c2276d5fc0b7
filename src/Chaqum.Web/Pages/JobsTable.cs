using Chaqum.Control.Messages;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>A table of jobs as ps shows them, LONGER marked.</summary>
public static class JobsTable
{
    public static Html Render(IReadOnlyList<JobInfo> jobs, int total, string what)
    {
        if (jobs.Count == 0) return H($"<p>No {what} jobs.</p>");
        var rows = Join(jobs.Select(j => H($"""
            <tr{(j.LongerThanUsual ? new Html(" class=\"longer-row\"") : Html.Empty)}><td>{Layout.JobLink(j.Id)}</td><td>{Layout.StateBadge(j.State, j.LongerThanUsual)}{(j.Urgent ? new Html(" <span class=\"urgent\">URGENT</span>") : Html.Empty)}</td>
            <td>{j.Group ?? "-"}</td><td class="cmd">{Format.Command(j.Script, j.Args)}</td><td class="n">{(j.Pid is { } pid ? pid.ToString() : "-")}</td>
            <td>{(j.State == "scheduled" ? "due " + Format.Time(j.DueAt) : Format.Time(j.StartedAt))}</td>
            <td class="n">{Format.Duration(j.RuntimeSeconds)}</td><td class="n">{Format.Duration(j.UsualSeconds)}</td></tr>
            """)));
        return H($"""
            <table class="jobs"><thead><tr><th>id</th><th>state</th><th>group</th><th>command</th><th class="n">pid</th><th>started</th><th class="n">runtime</th><th class="n">usual</th></tr></thead>
            <tbody>{rows}</tbody></table>
            {(total > jobs.Count ? H($"<p class=\"more\">{jobs.Count} of {total} shown.</p>") : Html.Empty)}
            """);
    }
}
