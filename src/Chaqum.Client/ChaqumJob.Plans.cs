using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Chaqum.Client;

// Plans: plan, waitplan.
public sealed partial class ChaqumJob
{
    // Non-ASCII text stays readable in the daemon's log and reasons; the escaping the
    // default encoder adds for HTML does not matter to a JSON parser.
    private static readonly JsonSerializerOptions PlanJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Submits a plan: a JSON document of <c>execute</c> steps in
    /// <c>sequence_group</c> and <c>parallel_group</c> nodes, run as ordinary jobs of the
    /// tree (docs/protocol.md). Returns the plan at once.</summary>
    /// <param name="utf8Json">The document, UTF-8 JSON, sent as it is.</param>
    /// <exception cref="ChaqumException">A bad plan, refused whole before any step runs; the
    /// reason names the JSON path of the fault.</exception>
    public async Task<PlanHandle> SubmitPlanAsync(ReadOnlyMemory<byte> utf8Json, CancellationToken cancel = default)
    {
        var line = new CommandLine("plan").Operands([utf8Json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var reply = await _connection.ExchangeAsync(line, utf8Json, cancel: cancel).ConfigureAwait(false);
        return new PlanHandle(this, reply.Single("plan"));
    }

    /// <summary>Submits a plan given as JSON text (sent as UTF-8).</summary>
    /// <exception cref="ChaqumException">A bad plan (the reason names the JSON path of the fault).</exception>
    public Task<PlanHandle> SubmitPlanAsync(string json, CancellationToken cancel = default) =>
        SubmitPlanAsync(Encoding.UTF8.GetBytes(json), cancel);

    /// <summary>Submits a plan built as a <see cref="JsonNode"/> (usually a
    /// <see cref="JsonObject"/>).</summary>
    /// <exception cref="ChaqumException">A bad plan (the reason names the JSON path of the fault).</exception>
    public Task<PlanHandle> SubmitPlanAsync(JsonNode plan, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return SubmitPlanAsync(Encoding.UTF8.GetBytes(plan.ToJsonString(PlanJson)), cancel);
    }

    /// <summary>Waits until the plan has ended or the timeout expires (null: for ever;
    /// zero: answer at once) and returns its state: <see cref="PlanState.Running"/> when
    /// the timeout passed first (as <see cref="JobStatus.Pending"/> for jobs).</summary>
    /// <exception cref="ChaqumException">The daemon does not know the plan id.</exception>
    public async Task<PlanState> WaitPlanAsync(string planId, TimeSpan? timeout = null, CancellationToken cancel = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(planId);
        var line = new CommandLine("waitplan");
        line.Option('t', Bounded(timeout));
        line.Operands([planId]);
        var reply = await _connection.ExchangeAsync(line, cancel: cancel).ConfigureAwait(false);
        if (reply.Words.Count != 2)
            throw new ChaqumException($"waitplan: expected PLANID STATE in the daemon's reply, got: S {ShellWords.Join(reply.Words)}");
        return reply.Words[1] switch
        {
            "succeeded" => PlanState.Succeeded,
            "failed" => PlanState.Failed,
            "cancelled" => PlanState.Cancelled,
            "T" => PlanState.Running,
            var word => throw new ChaqumException($"waitplan: unreadable plan state '{word}' in the daemon's reply"),
        };
    }
}
