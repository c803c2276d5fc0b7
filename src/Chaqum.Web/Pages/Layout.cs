using Chaqum.Web.Daemon;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>The frame of every page: the navigation, the banner that says when the
/// daemon is not running, and the one script (live updates). Pages are complete without
/// the script; it only keeps them current.</summary>
public static class Layout
{
    private static readonly (string Path, string Label)[] Nav =
    [
        ("/", "Overview"), ("/jobs", "Jobs"), ("/killlist", "Kill list"), ("/history", "History"), ("/stats", "Stats"), ("/snapshots", "Snapshots"),
    ];

    /// <param name="live">What the script keeps current: "page" (reload the main part
    /// when the daemon reports a change), or nothing.</param>
    public static IResult Page(HttpContext context, string title, Html body, string? daemonDown = null, string live = "page", Html? extra = null, int status = 200)
    {
        string path = context.Request.Path.Value ?? "/";
        var nav = Join(Nav.Select(n => H($"<a href=\"{n.Path}\"{(Current(path, n.Path) ? new Html(" aria-current=\"page\"") : Html.Empty)}>{n.Label}</a>")));
        // Nothing about the tree for a browser that has not logged in yet.
        bool admitted = context.RequestServices.GetRequiredService<Security.TokenGate>().Admits(context);
        var tree = admitted ? context.RequestServices.GetRequiredService<DaemonLink>().TreeRoot ?? "" : "";
        if (!admitted) nav = Html.Empty;
        var banner = H($"<p id=\"down\" class=\"down\"{(daemonDown is null ? new Html(" hidden") : Html.Empty)}>{daemonDown ?? "The daemon is not running."} History and stats still work.</p>");
        var html = H($"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title} · chaqum {tree}</title>
            <link rel="stylesheet" href="/static/app.css">
            <script src="/static/live.js" defer></script>
            </head>
            <body data-live="{live}">
            <header><strong>chaqum</strong> <span class="tree">{tree}</span><nav>{nav}</nav></header>
            {banner}
            <main id="main">
            <h1>{title}</h1>
            {body}
            </main>
            {extra ?? Html.Empty}
            </body>
            </html>
            """);
        return Results.Content(html.Value, "text/html; charset=utf-8", statusCode: status);
    }

    private static bool Current(string path, string nav) => nav == "/" ? path == "/" : path.StartsWith(nav, StringComparison.Ordinal);

    /// <summary>A hidden antiforgery field for a form.</summary>
    public static Html Token(HttpContext context)
    {
        var tokens = context.RequestServices.GetRequiredService<Microsoft.AspNetCore.Antiforgery.IAntiforgery>().GetAndStoreTokens(context);
        return H($"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{tokens.RequestToken}\">");
    }

    public static Html StateBadge(string state, bool longer = false) =>
        H($"<span class=\"state s-{state}\">{state}</span>{(longer ? new Html(" <span class=\"longer\">LONGER</span>") : Html.Empty)}");

    public static Html JobLink(string id) => H($"<a href=\"{Links.Job(id)}\">{id}</a>");
}
