using Microsoft.AspNetCore.Antiforgery;

namespace Chaqum.Web.Pages;

/// <summary>Every form the pages post is checked here first: its antiforgery token must
/// match the cookie (a page on another site cannot make the browser post one), then its
/// fields are read.</summary>
public static class Forms
{
    /// <summary>The form's fields, or null when its token is missing or wrong.</summary>
    public static async Task<IFormCollection?> ReadAsync(HttpContext context)
    {
        var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        if (!context.Request.HasFormContentType) return null;
        try { await antiforgery.ValidateRequestAsync(context); }
        catch (AntiforgeryValidationException) { return null; }
        return await context.Request.ReadFormAsync(context.RequestAborted);
    }

    public static IResult Refused(HttpContext context) => Layout.Page(context, "Refused",
        Html.H($"<p class=\"error\">This form could not be checked (its token is missing or stale). Go back, reload the page and try again.</p>"), status: 400);

    /// <summary>After a change, back to a page (post, redirect, get: a reload does not post again).</summary>
    public static IResult Back(string path) => Results.LocalRedirect(path);
}
