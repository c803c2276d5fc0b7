using Chaqum.Web.Api;

namespace Chaqum.Web.Security;

/// <summary>
/// What every request passes before it reaches a page or the API:
///
/// - headers: a strict Content-Security-Policy (only this origin's own stylesheet and
///   script, no inline script or style, no framing, forms post only here), no sniffing,
///   no referrer;
/// - the Host header, when no token guards the server: only loopback names, so a web page
///   that rebinds its own DNS name to 127.0.0.1 cannot read the dashboard or post to it;
/// - cross-site writes: a POST or DELETE that a browser marks as coming from another
///   origin (Origin, Sec-Fetch-Site) is refused. Forms carry an antiforgery token as well;
///   the JSON API, which programs call with curl, is protected by this check alone;
/// - the token (<see cref="TokenGate"/>): the API answers 401 without it, pages send the
///   browser to the login form.
/// </summary>
public static class Guard
{
    public const string Policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]", "::1"];

    public static IApplicationBuilder UseGuard(this IApplicationBuilder app, TokenGate gate, Listening listening) => app.Use(async (context, next) =>
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = Policy;
        headers.XContentTypeOptions = "nosniff";
        // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on
        // its own forms, which the cross-site check below would have to let through.
        headers["Referrer-Policy"] = "same-origin";
        headers.XFrameOptions = "DENY";
        // What antiforgery sets on every page with a form: anything else it overrides with
        // a warning in the log, once per page view.
        headers.CacheControl = "no-cache, no-store";
        headers.Pragma = "no-cache";

        var request = context.Request;
        if (!gate.Enabled && listening.UnixPath is null && !LoopbackHosts.Contains(request.Host.Host, StringComparer.OrdinalIgnoreCase))
        {
            await ApiErrors.Write(context, 421, $"host '{request.Host.Host}' is not served: without --token-file, chaqum-web answers only to localhost, 127.0.0.1 and [::1]");
            return;
        }
        bool writes = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method));
        if (writes && CrossSite(request))
        {
            await ApiErrors.Write(context, 403, "cross-site request refused: changes come only from this dashboard's own pages or from programs");
            return;
        }
        string path = request.Path.Value ?? "/";
        bool open = path.StartsWith("/static/", StringComparison.Ordinal) || path == "/login" || path == "/favicon.ico";
        if (!open && !gate.Admits(context))
        {
            if (IsApi(path) || !HttpMethods.IsGet(request.Method))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await ApiErrors.Write(context, 401, "a token is needed: send Authorization: Bearer TOKEN (the contents of chaqum-web's --token-file)");
            }
            else context.Response.Redirect("/login?next=" + Uri.EscapeDataString(request.Path + request.QueryString));
            return;
        }
        await next(context);
    });

    public static bool IsApi(string path) =>
        path.StartsWith("/api/", StringComparison.Ordinal) || path == "/metrics" || path.StartsWith("/openapi/", StringComparison.Ordinal);

    private static bool CrossSite(HttpRequest request)
    {
        // A browser that says where a request comes from is believed first (it cannot be
        // made to lie by a page); programs (curl) send neither header.
        string? site = request.Headers["Sec-Fetch-Site"];
        if (site is "cross-site" or "same-site") return true;
        if (site is "same-origin" or "none") return false;
        string? origin = request.Headers.Origin;
        if (string.IsNullOrEmpty(origin)) return false;
        if (origin == "null") return true;
        return !Uri.TryCreate(origin, UriKind.Absolute, out var uri) || !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
