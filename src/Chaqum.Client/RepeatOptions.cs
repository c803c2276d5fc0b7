namespace Chaqum.Client;

/// <summary>Options of <c>repeat</c>. Group limits update the group once, at registration;
/// the per-job options apply to every firing.</summary>
public sealed record RepeatOptions : JobSchedulingOptions
{
    /// <summary>Fire even while the previous firing is still queued or running (<c>-o</c>);
    /// by default such a firing is skipped.</summary>
    public bool AllowOverlap { get; init; }

    internal override void AddTo(CommandLine line)
    {
        line.Flag('o', AllowOverlap);
        base.AddTo(line);
    }
}
