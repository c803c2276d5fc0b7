using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.Web.Daemon;
using Chaqum.Web.Live;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>/snapshots: take a snapshot of the daemon's whole state (a post), download one
/// as the JSON chaqumctl snapshot writes, and compare two as chaqumctl diff does.</summary>
public static class SnapshotsPage
{
    public static IResult Render(HttpContext context, Snapshots snapshots, int? a, int? b, Html? notice = null)
    {
        var all = snapshots.All;
        var rows = Join(all.Reverse().Select(s => H($"""
            <tr><td class="n">{s.Number}</td><td>{Format.Time(s.Snapshot.TakenAt)}</td><td class="n">{s.Snapshot.Jobs.Count}</td>
            <td><a href="/snapshots/{s.Number}.json" download="snapshot-{s.Number}.json">JSON</a></td></tr>
            """)));
        int defaultA = a ?? (all.Count >= 2 ? all[^2].Number : 0), defaultB = b ?? (all.Count >= 1 ? all[^1].Number : 0);
        Html Options(int selected) => Join(all.Select(s => H($"<option value=\"{s.Number}\"{(s.Number == selected ? new Html(" selected") : Html.Empty)}>{s.Number} ({Format.Time(s.Snapshot.TakenAt)})</option>")));
        Html diff = Html.Empty;
        if (a is { } first && b is { } second)
        {
            var before = snapshots.Find(first);
            var after = snapshots.Find(second);
            if (before is null || after is null) diff = H($"<p class=\"error\">No snapshot {(before is null ? first : second)} (the newest {Snapshots.Kept} are kept).</p>");
            else
            {
                var changes = Snapshots.Diff(before, after);
                var lines = Join(changes.Select(c =>
                {
                    string mark = c.Kind switch { "appeared" => "+", "finished" or "vanished" => "-", _ => "~" };
                    string detail = c.Kind switch
                    {
                        "appeared" => c.State!,
                        "finished" => $"{c.From} -> {c.State} ({c.Status})",
                        "vanished" => $"{c.From} -> gone",
                        _ => $"{c.From} -> {c.State}",
                    };
                    return H($"<li class=\"d-{c.Kind}\"><code>{mark}</code> {Layout.JobLink(c.Id)} {detail}</li>");
                }));
                diff = H($"<h2>From {first} to {second}</h2>{(changes.Count == 0 ? new Html("<p>No change.</p>") : H($"<ul class=\"diff\">{lines}</ul>"))}");
            }
        }
        var body = H($"""
            {notice ?? Html.Empty}
            <form method="post" action="/snapshots">{Layout.Token(context)}<button>Take a snapshot now</button></form>
            {(all.Count == 0 ? H($"<p>No snapshots taken yet.</p>") : H($"""
                <table><thead><tr><th>#</th><th>taken</th><th>jobs</th><th></th></tr></thead><tbody>{rows}</tbody></table>
                <form method="get" action="/snapshots" class="filter"><label>compare <select name="a">{Options(defaultA)}</select></label>
                <label>with <select name="b">{Options(defaultB)}</select></label><button>Diff</button></form>
                """))}
            {diff}
            """);
        return Layout.Page(context, "Snapshots", body, live: "none");
    }

    public static async Task<IResult> Take(HttpContext context, DaemonLink daemon, Snapshots snapshots)
    {
        if (await Forms.ReadAsync(context) is null) return Forms.Refused(context);
        try
        {
            var snapshot = await daemon.CallAsync(ControlVerbs.Snapshot);
            int number = snapshots.Add(snapshot);
            var all = snapshots.All;
            return all.Count >= 2 ? Forms.Back($"/snapshots?a={all[^2].Number}&b={number}") : Forms.Back("/snapshots");
        }
        catch (DaemonDownException e) { return Render(context, snapshots, null, null, H($"<p class=\"error\">{e.Message}</p>")); }
        catch (ControlFailedException e) { return Render(context, snapshots, null, null, H($"<p class=\"error\">{e.Message}</p>")); }
    }
}
