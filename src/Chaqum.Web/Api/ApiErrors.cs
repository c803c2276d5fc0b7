using Chaqum.Control;
using Chaqum.Web.Daemon;

namespace Chaqum.Web.Api;

/// <summary>Errors as the API gives them: JSON, {"error": "a sentence"}, with a status
/// that says whose fault it is (400 the request, 404 no such thing, 503 no daemon).</summary>
public static class ApiErrors
{
    public sealed record Error(string error);

    public static IResult Result(int status, string sentence) => Results.Json(new Error(sentence), statusCode: status);

    public static Task Write(HttpContext context, int status, string sentence)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new Error(sentence));
    }

    /// <summary>Runs a call to the daemon; its refusals and absence become errors.</summary>
    public static async Task<IResult> Guarded(Func<Task<IResult>> call)
    {
        try { return await call(); }
        catch (DaemonDownException e) { return Result(503, e.Message); }
        catch (HistoryUnavailableException e) { return Result(500, e.Message); }
        catch (SubmissionException e) { return Result(400, e.Message); }
        catch (ControlFailedException e) { return Result(StatusFor(e.Message), e.Message); }
    }

    /// <summary>"no job 'x/1'", "no group 'g' ...", "no repeat ...": the thing is not there.</summary>
    public static int StatusFor(string daemonError) =>
        daemonError.StartsWith("no job", StringComparison.Ordinal) || daemonError.StartsWith("no group", StringComparison.Ordinal)
        || daemonError.StartsWith("no repeat", StringComparison.Ordinal) ? 404 : 400;
}
