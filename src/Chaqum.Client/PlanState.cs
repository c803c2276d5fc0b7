namespace Chaqum.Client;

/// <summary>What <c>waitplan</c> says about a plan.</summary>
public enum PlanState
{
    /// <summary>Not ended when the timeout expired (<c>T</c> on the wire).</summary>
    Running = 0,
    /// <summary>Every step succeeded.</summary>
    Succeeded,
    /// <summary>A step failed (non-zero exit, signal, timeout, or killed by hand).</summary>
    Failed,
    /// <summary>Cancelled as a whole (<c>chaqumctl plan cancel</c>).</summary>
    Cancelled,
}
