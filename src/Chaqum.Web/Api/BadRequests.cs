namespace Chaqum.Web.Api;

/// <summary>A request ASP.NET cannot bind (limit=abc, a body too big) is answered like
/// every other error: JSON with a sentence, not an empty 400.</summary>
public static class BadRequests
{
    public static IServiceCollection AddBadRequestSentences(this IServiceCollection services) =>
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

    public static IApplicationBuilder UseBadRequestSentences(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try { await next(context); }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            await ApiErrors.Write(context, e.StatusCode, e.Message);
        }
    });
}
