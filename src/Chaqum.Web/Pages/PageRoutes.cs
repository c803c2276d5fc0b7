using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.Web.Daemon;
using Chaqum.Web.Live;
using Chaqum.Web.Security;

namespace Chaqum.Web.Pages;

/// <summary>The dashboard's pages (GET: they change nothing) and the forms they post
/// (POST, each checked for its antiforgery token before anything is done).</summary>
public static class PageRoutes
{
    public static void MapPages(this WebApplication app)
    {
        var pages = app.MapGroup("").ExcludeFromDescription();
        pages.MapGet("/", OverviewPage.Render);
        pages.MapGet("/jobs", (HttpContext c, DaemonLink d, string? state, string? group, string? script, string? sort, int? page, bool? all) =>
            JobsPage.Render(c, d, state, group, script, sort, page, all));
        pages.MapGet("/jobs/{**id}", (HttpContext c, DaemonLink d, string id) => JobPage.Render(c, d, id));
        pages.MapPost("/jobs/{**rest}", (HttpContext c, DaemonLink d, string rest) =>
        {
            var (id, action) = Links.Split(rest, "kill", "pause", "resume", "renice");
            return action is null ? Task.FromResult(Results.NotFound()) : JobActions.Handle(c, d, id, action);
        });
        pages.MapGet("/killlist", (HttpContext c, DaemonLink d) => KillListPage.Render(c, d));
        pages.MapPost("/killlist", KillListPage.Kill);
        pages.MapGet("/history", (HttpContext c, HistoryReader h, DaemonProbe p, string? script, string? id, bool? failed, string? since) =>
            HistoryPage.Render(c, h, p, script, id, failed, since));
        pages.MapGet("/stats", (HttpContext c, HistoryReader h, DaemonProbe p, string? since) => StatsPage.Render(c, h, p, since));
        pages.MapGet("/snapshots", (HttpContext c, Snapshots s, int? a, int? b) => SnapshotsPage.Render(c, s, a, b));
        pages.MapPost("/snapshots", SnapshotsPage.Take);
        pages.MapGet("/snapshots/{number:int}.json", (Snapshots s, int number) => s.Find(number) is { } snapshot
            ? Results.Text(System.Text.Json.JsonSerializer.Serialize(snapshot, ControlJson.Indented.Snapshot), "application/json")
            : Results.NotFound());
        pages.MapPost("/groups/{group}/{action}", async (HttpContext c, DaemonLink d, string group, string action) =>
        {
            if (action is not ("pause" or "resume")) return Results.NotFound();
            if (await Forms.ReadAsync(c) is null) return Forms.Refused(c);
            try { await d.CallAsync(action == "pause" ? ControlVerbs.Pause : ControlVerbs.Resume, new PauseArgs { Target = group, Group = true }); }
            catch (Exception e) when (e is DaemonDownException or ControlFailedException)
            {
                return Layout.Page(c, "Group", Html.H($"<p class=\"error\">{action} {group}: {e.Message}</p>"), status: 400);
            }
            return Forms.Back("/");
        });
        pages.MapGet("/login", (HttpContext c, string? next) => LoginPage.Render(c, next));
        pages.MapPost("/login", LoginPage.Post);
    }
}
