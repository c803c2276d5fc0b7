using System.Text.Json.Serialization.Metadata;

namespace Chaqum.Control.Messages;

/// <summary>One kind of control request: its name on the wire, the type of its arguments
/// and of its result. The daemon's handler and every client (chaqumctl, the web) use the
/// same definition, so the two sides cannot read a field under different names.</summary>
public sealed record ControlVerb<TArgs, TResult>(string Name, JsonTypeInfo<TArgs> Args, JsonTypeInfo<TResult> Result);

/// <summary>Every control request (docs/control.md, "The requests").</summary>
public static class ControlVerbs
{
    private static ControlJson J => ControlJson.Default;

    public static readonly ControlVerb<NoArgs, HelloResult> Hello = new("hello", J.NoArgs, J.HelloResult);
    public static readonly ControlVerb<PsArgs, JobsResult> Ps = new("ps", J.PsArgs, J.JobsResult);
    public static readonly ControlVerb<ShowArgs, ShowResult> Show = new("show", J.ShowArgs, J.ShowResult);
    public static readonly ControlVerb<LogArgs, LogEnd> Log = new("log", J.LogArgs, J.LogEnd);
    public static readonly ControlVerb<KillArgs, KillResult> Kill = new("kill", J.KillArgs, J.KillResult);
    public static readonly ControlVerb<WaitArgs, WaitResult> Wait = new("wait", J.WaitArgs, J.WaitResult);
    public static readonly ControlVerb<PauseArgs, PauseResult> Pause = new("pause", J.PauseArgs, J.PauseResult);
    public static readonly ControlVerb<PauseArgs, PauseResult> Resume = new("resume", J.PauseArgs, J.PauseResult);
    public static readonly ControlVerb<ReniceArgs, ReniceResult> Renice = new("renice", J.ReniceArgs, J.ReniceResult);
    public static readonly ControlVerb<PrioArgs, PrioResult> Prio = new("prio", J.PrioArgs, J.PrioResult);
    public static readonly ControlVerb<NoArgs, GroupsResult> Groups = new("groups", J.NoArgs, J.GroupsResult);
    public static readonly ControlVerb<NoArgs, RepeatsResult> Repeats = new("repeats", J.NoArgs, J.RepeatsResult);
    public static readonly ControlVerb<EnqueueArgs, EnqueueResult> Enqueue = new("enqueue", J.EnqueueArgs, J.EnqueueResult);
    /// <summary>enqueue with follow: the answer is that of log.</summary>
    public static readonly ControlVerb<EnqueueArgs, LogEnd> Run = new("enqueue", J.EnqueueArgs, J.LogEnd);
    public static readonly ControlVerb<NoArgs, Snapshot> Snapshot = new("snapshot", J.NoArgs, J.Snapshot);
}
