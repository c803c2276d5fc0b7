using System.Text.Json;
using System.Text.Json.Serialization;

namespace Chaqum.Control.Messages;

/// <summary>
/// The control protocol's JSON, generated at build time: no reflection, so chaqumctl can
/// be compiled ahead of time. Members are snake_case on the wire; null members are
/// written as null (a field with nothing to say is null, not missing).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    // Bounded depth: a hostile line of ten thousand '[' is refused, not recursed into.
    MaxDepth = 32)]
[JsonSerializable(typeof(ControlRequest))]
[JsonSerializable(typeof(ControlResponse))]
[JsonSerializable(typeof(NoArgs))]
[JsonSerializable(typeof(PsArgs))]
[JsonSerializable(typeof(ShowArgs))]
[JsonSerializable(typeof(LogArgs))]
[JsonSerializable(typeof(KillArgs))]
[JsonSerializable(typeof(WaitArgs))]
[JsonSerializable(typeof(PauseArgs))]
[JsonSerializable(typeof(ReniceArgs))]
[JsonSerializable(typeof(PrioArgs))]
[JsonSerializable(typeof(EnqueueArgs))]
[JsonSerializable(typeof(HoldArgs))]
[JsonSerializable(typeof(HoldResult))]
[JsonSerializable(typeof(RepeatArgs))]
[JsonSerializable(typeof(RepeatActionResult))]
[JsonSerializable(typeof(HelloResult))]
[JsonSerializable(typeof(JobInfo))]
[JsonSerializable(typeof(JobDetails))]
[JsonSerializable(typeof(JobsResult))]
[JsonSerializable(typeof(ShowResult))]
[JsonSerializable(typeof(LogLine))]
[JsonSerializable(typeof(ControlEvent))]
[JsonSerializable(typeof(LogEnd))]
[JsonSerializable(typeof(KillResult))]
[JsonSerializable(typeof(WaitResult))]
[JsonSerializable(typeof(PauseResult))]
[JsonSerializable(typeof(ReniceResult))]
[JsonSerializable(typeof(PrioResult))]
[JsonSerializable(typeof(EnqueueResult))]
[JsonSerializable(typeof(GroupInfo))]
[JsonSerializable(typeof(GroupsResult))]
[JsonSerializable(typeof(IReadOnlyList<GroupInfo>))]
[JsonSerializable(typeof(IReadOnlyList<RepeatInfo>))]
[JsonSerializable(typeof(RepeatInfo))]
[JsonSerializable(typeof(RepeatsResult))]
[JsonSerializable(typeof(Snapshot))]
[JsonSerializable(typeof(EventsArgs))]
[JsonSerializable(typeof(DaemonEvent))]
[JsonSerializable(typeof(StatusResult))]
[JsonSerializable(typeof(PlanSubmitArgs))]
[JsonSerializable(typeof(PlanArgs))]
[JsonSerializable(typeof(PlanSubmitResult))]
[JsonSerializable(typeof(PlanSummary))]
[JsonSerializable(typeof(PlanView))]
[JsonSerializable(typeof(PlanNodeView))]
[JsonSerializable(typeof(PlanAllocationInfo))]
[JsonSerializable(typeof(PlanStepEvent))]
[JsonSerializable(typeof(PlansResult))]
public sealed partial class ControlJson : JsonSerializerContext
{
    /// <summary>The same types, written indented for people (chaqumctl --json).</summary>
    public static ControlJson Indented { get; } = new(OptionsFor(indented: true));

    /// <summary>The same types on one line, text as it is (the wire, log --json).</summary>
    public static ControlJson Line { get; } = new(OptionsFor(indented: false));

    /// <summary>The options of the attribute above, plus the text encoder (which an
    /// attribute cannot name).</summary>
    private static JsonSerializerOptions OptionsFor(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        MaxDepth = 32,
        WriteIndented = indented,
        Encoder = ControlProtocol.Encoder,
    };
}
