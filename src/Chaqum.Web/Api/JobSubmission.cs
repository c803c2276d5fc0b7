using System.Globalization;
using System.Text.Json;

namespace Chaqum.Web.Api;

/// <summary>
/// A job as POST /jobs and POST /api/jobs take it: the script (relative to the tree), its
/// arguments, and every option of the protocol's enqueue by name. It becomes the words of
/// a protocol enqueue, sent to the daemon as they are: the daemon checks the script (inside
/// the tree, executable, a regular file) exactly as for a job's fd 3; nothing is resolved
/// here.
///
/// A body that is a plan document (jobsch's form: {"type": ...}) or carries one under
/// "plan" is a plan instead: see <see cref="PlanSubmission"/>.
/// </summary>
public sealed record JobSubmission
{
    public string? Script { get; init; }
    public List<string>? Args { get; init; }
    public string? Group { get; init; }
    /// <summary>-m: the group's limit of running jobs.</summary>
    public int? MaxProcs { get; init; }
    /// <summary>-c, -l, -M: the group's barriers (numbers, or strings such as "2G").</summary>
    public JsonElement? MaxCpu { get; init; }
    public JsonElement? MaxLoad { get; init; }
    public JsonElement? MinMemory { get; init; }
    /// <summary>-t: seconds, or an interval ("10m").</summary>
    public JsonElement? Timeout { get; init; }
    public int? Retries { get; init; }
    public int? Priority { get; init; }
    public string? Key { get; init; }
    /// <summary>-a: ids of jobs that must succeed first.</summary>
    public List<string>? After { get; init; }
    /// <summary>-d: start no sooner than this from now (an interval).</summary>
    public JsonElement? Delay { get; init; }
    /// <summary>-A: start no sooner than this time (ISO 8601 or HH:MM).</summary>
    public string? At { get; init; }
    public bool Held { get; init; }
    public bool Urgent { get; init; }
    public bool Forget { get; init; }
    public bool Requeue { get; init; }
    /// <summary>A job plan instead of a job (see the class summary).</summary>
    public JsonElement? Plan { get; init; }

    /// <exception cref="SubmissionException">Something the words cannot say.</exception>
    public List<string> Words()
    {
        if (string.IsNullOrEmpty(Script)) throw new SubmissionException("a job needs a \"script\" (relative to the tree)");
        var words = new List<string>();
        void Option(string letter, string? value)
        {
            if (value is not null) { words.Add(letter); words.Add(value); }
        }
        if (Forget) words.Add("-F");
        if (Held) words.Add("-H");
        if (Urgent) words.Add("-U");
        if (Requeue) words.Add("-R");
        Option("-g", Group);
        Option("-m", Number(MaxProcs));
        Option("-c", Scalar(MaxCpu, "max_cpu"));
        Option("-l", Scalar(MaxLoad, "max_load"));
        Option("-M", Scalar(MinMemory, "min_memory"));
        Option("-t", Scalar(Timeout, "timeout"));
        Option("-r", Number(Retries));
        Option("-p", Number(Priority));
        Option("-k", Key);
        foreach (var after in After ?? []) Option("-a", after);
        Option("-d", Scalar(Delay, "delay"));
        Option("-A", At);
        words.Add("--");
        words.Add(Script);
        words.AddRange(Args ?? []);
        return words;
    }

    private static string? Number(int? n) => n?.ToString(CultureInfo.InvariantCulture);

    private static string? Scalar(JsonElement? value, string name) => value switch
    {
        null => null,
        { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        _ => throw new SubmissionException($"\"{name}\" must be a number or a string"),
    };
}

public sealed class SubmissionException(string message) : Exception(message);

/// <summary>Where a plan body goes: to the daemon's plan_submit, as the document's text
/// (the daemon parses and checks it, exactly as for chaqumctl plan submit and a job's fd 3).
/// jobsch posts the plan itself as the job ({"type": "sequence_group", ...}); a body of
/// ours may also carry one under "plan".</summary>
public static class PlanSubmission
{
    /// <summary>The plan document in the body, or null when the body is one job.</summary>
    public static string? Document(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            if (doc.RootElement.TryGetProperty("type", out _)) return body;
            if (doc.RootElement.TryGetProperty("plan", out var plan) && plan.ValueKind != JsonValueKind.Null) return plan.GetRawText();
            return null;
        }
        catch (JsonException)
        {
            return null;   // the job's own reading says what is wrong with it
        }
    }

    public static bool IsPlanId(string id) => id.StartsWith("plan/", StringComparison.Ordinal);
}
