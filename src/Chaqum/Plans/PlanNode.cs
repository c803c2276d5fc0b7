using Chaqum.Scheduling;

namespace Chaqum.Plans;

/// <summary>
/// One node of a plan document as the daemon keeps it after parsing: a step (execute) or
/// a group (sequence_group, parallel_group). A plan of 100 000 steps keeps 100 000 of
/// them, so each holds only what it needs; its JSON path and its display path are made
/// from the parent chain when asked for.
/// </summary>
public abstract class PlanNode
{
    /// <summary>The enclosing group; null for the root.</summary>
    public GroupNode? Parent { get; internal set; }
    /// <summary>Index in the parent's work array.</summary>
    public int Index { get; internal set; }
    /// <summary>The document's optional "name".</summary>
    public string? Name { get; init; }

    /// <summary>"execute", "sequence_group" or "parallel_group", as in the document.</summary>
    public abstract string Type { get; }

    /// <summary>Where in the document: "$.work[1].work[0]".</summary>
    public string JsonPath => Parent is null ? "$" : $"{Parent.JsonPath}.work[{Index}]";

    /// <summary>How the node is called in a path: its name, or its index in its group
    /// (a step: its command).</summary>
    public virtual string Label => Name ?? Index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The node's place for people: "plan/3 > 1 > convert a.png" (the root is
    /// the plan itself, so it adds nothing).</summary>
    public string PathIn(string planId)
    {
        var labels = new List<string>();
        for (PlanNode? n = this; n?.Parent is not null; n = n.Parent) labels.Add(n.Label);
        labels.Add(planId);
        labels.Reverse();
        return string.Join(" > ", labels);
    }

    /// <summary>Nesting level: 0 for the root.</summary>
    public int Depth
    {
        get
        {
            int d = 0;
            for (var n = Parent; n is not null; n = n.Parent) d++;
            return d;
        }
    }
}

/// <summary>sequence_group or parallel_group.</summary>
public sealed class GroupNode : PlanNode
{
    public required bool Parallel { get; init; }
    public List<PlanNode> Work { get; } = new();
    public override string Type => Parallel ? "parallel_group" : "sequence_group";
}

/// <summary>execute: one script of the tree with its arguments, run as one job.</summary>
public sealed class StepNode : PlanNode
{
    public required ScriptPath Script { get; init; }
    public required string[] Args { get; init; }
    /// <summary>The role it runs in (its own, inherited, or the default); null for none.</summary>
    public string? Role { get; init; }
    public TimeSpan? Timeout { get; init; }
    public int Retries { get; init; }
    public int Priority { get; init; }
    public string? Key { get; init; }

    public override string Type => "execute";
    public override string Label => Name ?? Chaqum.Words.ShellWords.Join(Args.Prepend(Script.Relative));

    /// <summary>The job that runs it, once the plan is compiled.</summary>
    public Job? Job { get; internal set; }
}
