using Chaqum.Web.Security;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>/login: with --token-file, a browser types the token once; a right one sets
/// the session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) and goes on to the
/// page it came for (a local path only).</summary>
public static class LoginPage
{
    public static IResult Render(HttpContext context, string? next, bool wrong = false)
    {
        var body = H($"""
            {(wrong ? H($"<p class=\"error\">That is not the token.</p>") : Html.Empty)}
            <form method="post" action="/login" class="login">{Layout.Token(context)}
            <input type="hidden" name="next" value="{next ?? "/"}">
            <label>token <input type="password" name="token" autocomplete="current-password" autofocus></label>
            <button>Log in</button>
            </form>
            <p class="hint">The token is the contents of the file given to chaqum-web with --token-file.</p>
            """);
        return Layout.Page(context, "Log in", body, live: "none", status: wrong ? 401 : 200);
    }

    public static async Task<IResult> Post(HttpContext context, TokenGate gate)
    {
        var form = await Forms.ReadAsync(context);
        if (form is null) return Forms.Refused(context);
        string next = form["next"].ToString();
        if (!next.StartsWith('/') || next.StartsWith("//", StringComparison.Ordinal) || next.StartsWith("/\\", StringComparison.Ordinal)) next = "/";
        if (!gate.Enabled) return Forms.Back(next);
        if (!gate.IsToken(form["token"])) return Render(context, next, wrong: true);
        context.Response.Cookies.Append(TokenGate.CookieName, gate.Session(), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
        });
        return Forms.Back(next);
    }
}
