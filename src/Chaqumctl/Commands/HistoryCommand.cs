using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Chaqum.History;

namespace Chaqumctl.Commands;

/// <summary>history [--script S] [--since T] [--failed] [--lost] [--plans] [-n N] [--json]:
/// past runs (or, with --plans, past plans), read from the tree's SQLite history (no
/// daemon needed).</summary>
public static class HistoryCommand
{
    public static Command Build(Context context)
    {
        var script = new Option<string?>("--script") { Description = "Only runs of this script", HelpName = "SCRIPT" };
        var since = new Option<string?>("--since") { Description = "Only runs since: 2h, 3d, 1w, or a date/time (2026-11-22, 2026-11-22T06:00)", HelpName = "T" };
        var failed = new Option<bool>("--failed") { Description = "Only runs that did not exit 0" };
        var lost = new Option<bool>("--lost") { Description = "Only runs lost in a daemon crash" };
        var id = new Option<string?>("--id") { Description = "Only runs of this job id", HelpName = "ID" };
        var limit = new Option<int>("--limit", "-n") { Description = "At most the last N runs", DefaultValueFactory = _ => 100 };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var plans = new Option<bool>("--plans") { Description = "List plans instead of runs: outcome, runtime, steps, the step that failed (--id, --since, --failed, -n apply)" };
        var command = new Command("history", "List past runs from the tree's history: times, status, outcome") { script, since, failed, lost, id, limit, json, plans };
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(plans))
            {
                if (parsed.GetValue(script) is not null || parsed.GetValue(lost))
                    throw new UsageException("history --plans: --script and --lost are for runs (a lost plan's outcome is lost: --failed lists it)");
                return Plans(context, parsed.GetValue(since), parsed.GetValue(failed), parsed.GetValue(id), parsed.GetValue(limit), parsed.GetValue(json));
            }
            var runs = WithStore(context, store => store.Query(new HistoryQuery
            {
                Script = parsed.GetValue(script),
                Since = parsed.GetValue(since) is { } s ? Since(s) : null,
                FailedOnly = parsed.GetValue(failed),
                LostOnly = parsed.GetValue(lost),
                Id = parsed.GetValue(id),
                Limit = Math.Max(1, parsed.GetValue(limit)),
            })) ?? new List<RunRecord>();
            if (parsed.GetValue(json)) { Format.Json(new JsonArray(runs.Select(r => (JsonNode?)Json(r)).ToArray())); return Program.Ok; }
            Format.Table(new[] { "ID", "ATTEMPT", "OUTCOME", "STATUS", "STARTED", "RUNTIME", "COMMAND" },
                runs.Select(r => (IReadOnlyList<string>)new[]
                {
                    r.Id, r.Attempt.ToString(CultureInfo.InvariantCulture), r.Outcome,
                    r.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? (r.Signal is { } sig ? $"-{sig}" : "N"),
                    Format.When(Iso(r.StartedAt ?? r.EnqueuedAt)), Format.Duration(r.RuntimeSeconds),
                    Chaqum.Words.ShellWords.Join(new[] { r.Script }.Concat(r.Args)),
                }));
            return Program.Ok;
        });
        return command;
    }

    private static int Plans(Context context, string? since, bool failed, string? id, int limit, bool json)
    {
        var plans = WithStore(context, store => store.QueryPlans(new PlanQuery
        {
            Since = since is { } s ? Since(s) : null,
            FailedOnly = failed,
            Id = id,
            Limit = Math.Max(1, limit),
        })) ?? new List<PlanRecord>();
        if (json)
        {
            Format.Json(new JsonArray(plans.Select(p => (JsonNode?)new JsonObject
            {
                ["id"] = p.Id,
                ["name"] = p.Name,
                ["outcome"] = p.Outcome,
                ["submitter"] = p.Submitter,
                ["submitted_at"] = Iso(p.SubmittedAt),
                ["ended_at"] = Iso(p.EndedAt),
                ["runtime_seconds"] = p.RuntimeSeconds,
                ["steps"] = p.Steps,
                ["steps_ended"] = p.StepsEnded,
                ["failed_step"] = p.FailedStep,
                ["failed_path"] = p.FailedPath,
                ["reason"] = p.Reason,
            }).ToArray()));
            return Program.Ok;
        }
        Format.Table(new[] { "ID", "NAME", "OUTCOME", "SUBMITTED", "RUNTIME", "STEPS", "WHY" },
            plans.Select(p => (IReadOnlyList<string>)new[]
            {
                p.Id, p.Name ?? "-", p.Outcome, Format.When(Iso(p.SubmittedAt)), Format.Duration(p.RuntimeSeconds),
                $"{p.StepsEnded.ToString(CultureInfo.InvariantCulture)}/{p.Steps.ToString(CultureInfo.InvariantCulture)}",
                p.Reason ?? "",
            }));
        return Program.Ok;
    }

    public static JsonObject Json(RunRecord r) => new()
    {
        ["id"] = r.Id,
        ["script"] = r.Script,
        ["args"] = new JsonArray(r.Args.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
        ["command"] = Chaqum.Words.ShellWords.Join(new[] { r.Script }.Concat(r.Args)),
        ["group"] = r.Group,
        ["parent"] = r.Parent,
        ["attempt"] = r.Attempt,
        ["enqueued_at"] = Iso(r.EnqueuedAt),
        ["started_at"] = Iso(r.StartedAt),
        ["ended_at"] = Iso(r.EndedAt),
        ["runtime_seconds"] = r.RuntimeSeconds,
        ["exit_code"] = r.ExitCode,
        ["signal"] = r.Signal,
        ["outcome"] = r.Outcome,
        ["cpu_user_seconds"] = r.CpuUserSeconds,
        ["cpu_system_seconds"] = r.CpuSystemSeconds,
        ["max_rss_bytes"] = r.MaxRssBytes,
        ["pid"] = r.Pid == 0 ? null : r.Pid,
        ["plan"] = r.Plan,
    };

    public static string? Iso(DateTimeOffset? t) => Chaqum.Control.Messages.ControlProtocol.Time(t);

    /// <summary>Runs `read` on the history store; null when there is no history yet.</summary>
    public static T? WithStore<T>(Context context, Func<HistoryStore, T> read) where T : class
    {
        var dir = context.StateDir() ?? throw new UsageException("where is the history? give -t TREE or --state-dir DIR");
        try
        {
            using var store = HistoryStore.Open(dir, readOnly: true);
            return store is null ? null : read(store);
        }
        // A corrupt, truncated or replaced database, a row someone edited by hand (a NULL
        // time, a number out of range): the history cannot be read, and that is all the
        // operator needs to hear.
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or InvalidOperationException or InvalidCastException
                                   or FormatException or OverflowException or ArgumentException or System.Text.Json.JsonException)
        {
            throw new ChaqumctlException($"cannot read the history in {Path.Combine(dir, "history.sqlite")}: {Program.Reason(e)}");
        }
    }

    /// <summary>"2h", "3d", "1w", "30m" ago, or an absolute date/time.</summary>
    public static DateTimeOffset Since(string text)
    {
        if (text.Length > 1 && char.IsAsciiDigit(text[0]) && "smhdw".Contains(text[^1]) &&
            double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n))
        {
            double seconds = n * text[^1] switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, _ => 604800 };
            var now = DateTimeOffset.Now;
            if (seconds >= (now - DateTimeOffset.MinValue).TotalSeconds - 86400)
                throw new UsageException($"--since: {text} reaches back before the year 1");
            return now - TimeSpan.FromSeconds(seconds);
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var t)) return t;
        throw new UsageException($"--since: '{text}' is neither a duration (2h, 3d) nor a date");
    }
}

/// <summary>stats [--since T] [--json]: per script: runs, failures, median, p95, max runtime,
/// CPU, max RSS.</summary>
public static class StatsCommand
{
    public static Command Build(Context context)
    {
        var since = new Option<string?>("--since") { Description = "Only runs since: 2h, 3d, 1w, or a date", HelpName = "T" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("stats", "Per script: runs, failures, median, p95 and max runtime, CPU, max memory") { since, json };
        command.SetAction(parsed =>
        {
            var since_ = parsed.GetValue(since) is { } s ? HistoryCommand.Since(s) : (DateTimeOffset?)null;
            var stats = HistoryCommand.WithStore(context, store => store.Stats(since_)) ?? new List<ScriptStats>();
            if (parsed.GetValue(json))
            {
                Format.Json(new JsonArray(stats.Select(x => (JsonNode?)new JsonObject
                {
                    ["script"] = x.Script,
                    ["runs"] = x.Runs,
                    ["failures"] = x.Failures,
                    ["median_seconds"] = x.MedianSeconds,
                    ["p95_seconds"] = x.P95Seconds,
                    ["max_seconds"] = x.MaxSeconds,
                    ["cpu_seconds"] = x.CpuSeconds,
                    ["max_rss_bytes"] = x.MaxRssBytes,
                }).ToArray()));
                return Program.Ok;
            }
            Format.Table(new[] { "SCRIPT", "RUNS", "FAILED", "MEDIAN", "P95", "MAX", "CPU", "MAX RSS" },
                stats.Select(x => (IReadOnlyList<string>)new[]
                {
                    x.Script, x.Runs.ToString(CultureInfo.InvariantCulture), x.Failures.ToString(CultureInfo.InvariantCulture),
                    Format.Duration(x.MedianSeconds), Format.Duration(x.P95Seconds), Format.Duration(x.MaxSeconds),
                    Format.Duration(x.CpuSeconds), Format.Size(x.MaxRssBytes),
                }));
            return Program.Ok;
        });
        return command;
    }
}
