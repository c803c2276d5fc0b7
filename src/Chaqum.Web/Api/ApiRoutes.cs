using System.Text.Json;
using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.History;
using Chaqum.Web.Daemon;
using Chaqum.Web.Live;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Chaqum.Web.Api;

/// <summary>The HTTP API under /api (docs/http.md): JSON in and out, errors as
/// {"error": "a sentence"}. Each route is one control request (or a read of the history);
/// GET never changes anything.</summary>
public static class ApiRoutes
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public sealed record StatusAnswer(bool DaemonRunning, StatusResult Status, IReadOnlyList<GroupInfo> Groups);
    public sealed record JobsPage(IReadOnlyList<JobInfo> Jobs, int Total, int Offset, int Limit);
    public sealed record Submitted(string JobId, string State);
    public sealed record KilledAnswer(string JobId, string Was, string State, string Signal);
    public sealed record LogAnswer(IReadOnlyList<LogLine> Lines, long Skipped, LogEnd? End);

    public static void MapApi(this WebApplication app)
    {
        var api = app.MapGroup("/api").WithTags("api");

        api.MapGet("/status", async (DaemonLink daemon) =>
        {
            try
            {
                var status = await daemon.CallAsync(ControlVerbs.Status);
                var groups = await daemon.CallAsync(ControlVerbs.Groups);
                return Results.Json(new StatusAnswer(true, status, groups.Groups));
            }
            catch (DaemonDownException e) { return Results.Json(new { error = e.Message, daemon_running = false }, statusCode: 503); }
        }).WithSummary("The daemon's version, uptime, jobs by state, counters and groups");

        api.MapGet("/jobs", (DaemonLink daemon, string? state, string? group, string? script, bool? longer, string? sort, int? offset, int? limit, bool? all) =>
            ApiErrors.Guarded(async () =>
            {
                int from = offset ?? 0, count = Math.Clamp(limit ?? DefaultLimit, 0, MaxLimit);
                if (from < 0) return ApiErrors.Result(400, "offset must not be negative");
                var page = await daemon.CallAsync(ControlVerbs.Ps, new PsArgs
                {
                    All = all ?? false, State = Empty(state), Group = Empty(group), Script = Empty(script),
                    Longer = longer ?? false, Sort = Empty(sort), Offset = from, Limit = count,
                });
                return Results.Json(new JobsPage(page.Jobs, page.Total ?? page.Jobs.Count, from, count));
            })).WithSummary("Jobs the daemon holds, paged and filtered by the daemon");

        api.MapGet("/jobs/{**rest}", (HttpContext context, DaemonLink daemon, string rest, string? follow, int? lines) =>
        {
            var (id, action) = Pages.Links.Split(rest, "log");
            if (action == "log") return Log(context, daemon, id, follow is "1" or "true" or "yes", lines ?? -1);
            return ApiErrors.Guarded(async () => Results.Json((await daemon.CallAsync(ControlVerbs.Show, new ShowArgs { Id = id, Lines = lines ?? 10 })).Job));
        }).WithSummary("One job (GET /api/jobs/ID), or its output (GET /api/jobs/ID/log, ?follow=1 streams JSON lines)");

        api.MapPost("/jobs", (HttpRequest request, DaemonLink daemon, IOptions<JsonOptions> json) => ApiErrors.Guarded(async () =>
        {
            var (answer, submitted) = await Submit(request, daemon, json.Value.SerializerOptions);
            if (submitted is null) return answer!;
            request.HttpContext.Response.Headers.Location = "/api/jobs/" + string.Join("/", submitted.JobId.Split('/').Select(Uri.EscapeDataString));
            return Results.Json(submitted, statusCode: 201);
        })).WithSummary("Enqueue a job: {\"script\", \"args\", \"group\", \"timeout\", \"retries\", \"priority\", \"key\", \"after\", ...}; 201 with its id")
          ;

        api.MapDelete("/jobs/{**id}", (DaemonLink daemon, string id, string? signal) => ApiErrors.Guarded(async () =>
            PlanSubmission.IsPlanId(id)
                ? Results.Json(await daemon.CallAsync(ControlVerbs.PlanCancel, new PlanArgs { Id = id }))
                : Results.Json(await Kill(daemon, id, signal)))).WithSummary("Kill a job (a queued one is cancelled), or cancel a plan (plan/N)");

        api.MapPost("/groups/{group}/pause", (DaemonLink daemon, string group) => Pause(daemon, group, true)).WithSummary("Start none of the group's queued jobs until resumed (- : the ungrouped jobs)");
        api.MapPost("/groups/{group}/resume", (DaemonLink daemon, string group) => Pause(daemon, group, false)).WithSummary("Resume a paused group");
        api.MapGet("/groups", (DaemonLink daemon) => ApiErrors.Guarded(async () => Results.Json(await daemon.CallAsync(ControlVerbs.Groups))))
            .WithSummary("Groups, their limits, counts and what holds each back");
        api.MapGet("/repeats", (DaemonLink daemon) => ApiErrors.Guarded(async () => Results.Json(await daemon.CallAsync(ControlVerbs.Repeats))))
            .WithSummary("Repeats and their next firing");

        api.MapGet("/history", (HistoryReader history, string? script, string? since, bool? failed, string? id, int? limit) => ApiErrors.Guarded(async () =>
        {
            var query = new HistoryQuery { Script = Empty(script), Since = Since.Parse(since), FailedOnly = failed ?? false, Id = Empty(id), Limit = Math.Clamp(limit ?? 100, 1, 100_000) };
            using var store = await history.OpenAsync();
            return Results.Json(new { runs = store?.Query(query) ?? [] });
        })).WithSummary("Past runs from the history database (works without a daemon)");

        api.MapGet("/stats", (HistoryReader history, string? since) => ApiErrors.Guarded(async () =>
        {
            using var store = await history.OpenAsync();
            return Results.Json(new { scripts = store?.Stats(Since.Parse(since)) ?? [] });
        })).WithSummary("Per script: runs, failures, median, p95 and max runtime (works without a daemon)");
    }

    /// <summary>POST /jobs (jobsch) and DELETE /jobs: the two routes of the jobsch
    /// scheduler, exactly as it defines them.</summary>
    public static void MapJobsch(this WebApplication app)
    {
        app.MapPost("/jobs", (HttpRequest request, DaemonLink daemon, IOptions<JsonOptions> json) => ApiErrors.Guarded(async () =>
        {
            var (answer, submitted) = await Submit(request, daemon, json.Value.SerializerOptions);
            return answer ?? Results.Json(new { job_id = submitted!.JobId });
        })).WithTags("jobsch").WithSummary("jobsch: enqueue a job; answers {\"job_id\": ...}");

        app.MapDelete("/jobs", (HttpRequest request, DaemonLink daemon, IOptions<JsonOptions> json) => ApiErrors.Guarded(async () =>
        {
            JobIdBody body;
            try { body = await ApiJson.ReadBody<JobIdBody>(request, json.Value.SerializerOptions); }
            catch (SubmissionException e) { return ApiErrors.Result(400, e.Message); }
            if (string.IsNullOrEmpty(body.JobId)) return ApiErrors.Result(400, "the body needs a \"job_id\"");
            try
            {
                if (PlanSubmission.IsPlanId(body.JobId))
                    return Results.Json(await daemon.CallAsync(ControlVerbs.PlanCancel, new PlanArgs { Id = body.JobId }));
                return Results.Json(await Kill(daemon, body.JobId, null));
            }
            // jobsch: 400 when there is no such job.
            catch (ControlFailedException e) { return ApiErrors.Result(400, e.Message); }
        })).WithTags("jobsch").WithSummary("jobsch: cancel a job; body {\"job_id\": ...}; 400 if there is no such job");
    }

    public sealed record JobIdBody(string? JobId);

    private static string? Empty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>Reads a job (or, later, a plan) from the body and enqueues it. Returns an
    /// error answer, or what was enqueued.</summary>
    private static async Task<(IResult? Error, Submitted? Job)> Submit(HttpRequest request, DaemonLink daemon, JsonSerializerOptions json)
    {
        string text;
        using (var reader = new StreamReader(request.Body))
            text = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        if (PlanSubmission.Document(text) is { } plan)
        {
            var submitted = await daemon.CallAsync(ControlVerbs.PlanSubmit, new PlanSubmitArgs { Document = plan });
            return (null, new Submitted(submitted.Id, "running"));
        }
        List<string> words;
        try
        {
            var body = JsonSerializer.Deserialize<JobSubmission>(text, json)
                ?? throw new SubmissionException("the body must be a JSON object");
            words = body.Words();
        }
        catch (JsonException e) { return (ApiErrors.Result(400, $"the body is not the JSON expected: {e.Message}"), null); }
        catch (SubmissionException e) { return (ApiErrors.Result(400, e.Message), null); }
        var result = await daemon.CallAsync(ControlVerbs.Enqueue, new EnqueueArgs { Words = words });
        return (null, new Submitted(result.Id, result.State));
    }

    public static async Task<KilledAnswer> Kill(DaemonLink daemon, string id, string? signal)
    {
        var result = await daemon.CallAsync(ControlVerbs.Kill, new KillArgs { Ids = [id], Signal = signal });
        var killed = result.Killed.Single();
        return new KilledAnswer(killed.Id, killed.Was, killed.State, result.Signal);
    }

    private static Task<IResult> Pause(DaemonLink daemon, string group, bool pause) => ApiErrors.Guarded(async () =>
    {
        var verb = pause ? ControlVerbs.Pause : ControlVerbs.Resume;
        var result = await daemon.CallAsync(verb, new PauseArgs { Target = group, Group = true });
        return Results.Json(new { group = result.Group, paused = result.Paused });
    });

    /// <summary>GET /api/jobs/ID/log: the output as one JSON document, or with follow as
    /// JSON lines ({"line": ...}, {"skipped": N}, then {"end": ...}) until the job ends.</summary>
    private static async Task<IResult> Log(HttpContext context, DaemonLink daemon, string id, bool follow, int lines)
    {
        if (!follow)
        {
            return await ApiErrors.Guarded(async () =>
            {
                var list = new List<LogLine>();
                long skipped = 0;
                LogEnd? end = null;
                await foreach (var item in LogFollower.Follow(daemon, id, lines, false, context.RequestAborted))
                {
                    if (item.Line is { } l) list.Add(l);
                    skipped += item.Skipped ?? 0;
                    end ??= item.End;
                }
                return Results.Json(new LogAnswer(list, skipped, end));
            });
        }
        var json = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var items = LogFollower.Follow(daemon, id, lines, true, context.RequestAborted).GetAsyncEnumerator(context.RequestAborted);
        // The first item decides the status: an unknown job or no daemon is an error, not an empty stream.
        bool any;
        try { any = await items.MoveNextAsync(); }
        catch (Exception e) when (e is DaemonDownException or ControlFailedException)
        {
            await items.DisposeAsync();
            return e is DaemonDownException ? ApiErrors.Result(503, e.Message) : ApiErrors.Result(ApiErrors.StatusFor(e.Message), e.Message);
        }
        return Results.Stream(async body =>
        {
            await using var _ = items;
            await using var writer = new StreamWriter(body, new System.Text.UTF8Encoding(false));
            try
            {
                for (bool more = any; more; more = await items.MoveNextAsync())
                {
                    var item = items.Current;
                    object line = item.Line is { } l ? new { line = l } : item.Skipped is { } n ? new { skipped = n } : new { end = item.End };
                    await writer.WriteLineAsync(JsonSerializer.Serialize(line, json));
                    await writer.FlushAsync();
                }
            }
            catch (OperationCanceledException) { }
            catch (DaemonDownException e) { await writer.WriteLineAsync(JsonSerializer.Serialize(new { error = e.Message }, json)); }
        }, "application/x-ndjson");
    }
}
