using System.Text.Json.Serialization.Metadata;

namespace Chaqum.Control.Messages;

/// <summary>One kind of control request: its name on the wire, the type of its arguments
/// and of its result. The daemon's handler and every client (chaqumctl, the web) use the
/// same definition, so the two sides cannot read a field under different names.
///
/// The two types' JSON metadata is built on first use, not when the verbs are defined:
/// building it for every verb at once was a third of a `chaqumctl ps` (docs/performance.md,
/// "Start-up"), and one call needs only its own verb's.</summary>
public sealed class ControlVerb<TArgs, TResult>(string name,
    Func<ControlJson, JsonTypeInfo<TArgs>> args, Func<ControlJson, JsonTypeInfo<TResult>> result)
{
    private JsonTypeInfo<TArgs>? _args;
    private JsonTypeInfo<TResult>? _result;

    public string Name { get; } = name;
    public JsonTypeInfo<TArgs> Args => _args ??= args(ControlJson.Default);
    public JsonTypeInfo<TResult> Result => _result ??= result(ControlJson.Default);
}

/// <summary>Every control request (docs/control.md, "The requests").</summary>
public static class ControlVerbs
{
    public static readonly ControlVerb<NoArgs, HelloResult> Hello = new("hello", j => j.NoArgs, j => j.HelloResult);
    public static readonly ControlVerb<PsArgs, JobsResult> Ps = new("ps", j => j.PsArgs, j => j.JobsResult);
    public static readonly ControlVerb<ShowArgs, ShowResult> Show = new("show", j => j.ShowArgs, j => j.ShowResult);
    public static readonly ControlVerb<LogArgs, LogEnd> Log = new("log", j => j.LogArgs, j => j.LogEnd);
    public static readonly ControlVerb<KillArgs, KillResult> Kill = new("kill", j => j.KillArgs, j => j.KillResult);
    public static readonly ControlVerb<WaitArgs, WaitResult> Wait = new("wait", j => j.WaitArgs, j => j.WaitResult);
    public static readonly ControlVerb<PauseArgs, PauseResult> Pause = new("pause", j => j.PauseArgs, j => j.PauseResult);
    public static readonly ControlVerb<PauseArgs, PauseResult> Resume = new("resume", j => j.PauseArgs, j => j.PauseResult);
    public static readonly ControlVerb<ReniceArgs, ReniceResult> Renice = new("renice", j => j.ReniceArgs, j => j.ReniceResult);
    public static readonly ControlVerb<PrioArgs, PrioResult> Prio = new("prio", j => j.PrioArgs, j => j.PrioResult);
    public static readonly ControlVerb<NoArgs, GroupsResult> Groups = new("groups", j => j.NoArgs, j => j.GroupsResult);
    public static readonly ControlVerb<NoArgs, RepeatsResult> Repeats = new("repeats", j => j.NoArgs, j => j.RepeatsResult);
    public static readonly ControlVerb<EnqueueArgs, EnqueueResult> Enqueue = new("enqueue", j => j.EnqueueArgs, j => j.EnqueueResult);
    /// <summary>enqueue with follow: the answer is that of log.</summary>
    public static readonly ControlVerb<EnqueueArgs, LogEnd> Run = new("enqueue", j => j.EnqueueArgs, j => j.LogEnd);
    public static readonly ControlVerb<RepeatArgs, RepeatActionResult> Unrepeat = new("unrepeat", j => j.RepeatArgs, j => j.RepeatActionResult);
    public static readonly ControlVerb<RepeatArgs, RepeatActionResult> Disable = new("disable", j => j.RepeatArgs, j => j.RepeatActionResult);
    public static readonly ControlVerb<RepeatArgs, RepeatActionResult> Enable = new("enable", j => j.RepeatArgs, j => j.RepeatActionResult);
    public static readonly ControlVerb<RepeatArgs, RepeatActionResult> Trigger = new("trigger", j => j.RepeatArgs, j => j.RepeatActionResult);
    public static readonly ControlVerb<NoArgs, Snapshot> Snapshot = new("snapshot", j => j.NoArgs, j => j.Snapshot);
    public static readonly ControlVerb<HoldArgs, HoldResult> Hold = new("hold", j => j.HoldArgs, j => j.HoldResult);
    public static readonly ControlVerb<HoldArgs, HoldResult> Release = new("release", j => j.HoldArgs, j => j.HoldResult);
    public static readonly ControlVerb<NoArgs, StatusResult> Status = new("status", j => j.NoArgs, j => j.StatusResult);
    /// <summary>Streams events ({"change": ...}) until the connection closes; never answers
    /// while the daemon runs.</summary>
    public static readonly ControlVerb<EventsArgs, LogEnd> Events = new("events", j => j.EventsArgs, j => j.LogEnd);
    public static readonly ControlVerb<PlanSubmitArgs, PlanSubmitResult> PlanSubmit = new("plan_submit", j => j.PlanSubmitArgs, j => j.PlanSubmitResult);
    /// <summary>plan_submit with follow: step events, then the plan as plan_show gives it.</summary>
    public static readonly ControlVerb<PlanSubmitArgs, PlanView> PlanRun = new("plan_submit", j => j.PlanSubmitArgs, j => j.PlanView);
    public static readonly ControlVerb<PlanArgs, PlanView> PlanShow = new("plan_show", j => j.PlanArgs, j => j.PlanView);
    public static readonly ControlVerb<PlanArgs, PlanSummary> PlanCancel = new("plan_cancel", j => j.PlanArgs, j => j.PlanSummary);
    public static readonly ControlVerb<NoArgs, PlansResult> Plans = new("plans", j => j.NoArgs, j => j.PlansResult);
}
