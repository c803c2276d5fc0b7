namespace Chaqum.Client;

/// <summary>Options of <c>enqueue</c>; every property is optional.</summary>
/// <example><code>new EnqueueOptions { Group = "convert", MaxProcs = 2, Timeout = TimeSpan.FromMinutes(5) }</code></example>
public sealed record EnqueueOptions : JobSchedulingOptions
{
    /// <summary>Keep no result for <c>wait</c> once the job has ended (<c>-F</c>).</summary>
    public bool Forget { get; init; }

    /// <summary>Start only after each of these jobs ended with status 0 (<c>-a</c>, once per
    /// id); if one ends otherwise, this job ends as never-ran.</summary>
    public IReadOnlyList<string> After { get; init; } = [];

    internal override void AddTo(CommandLine line)
    {
        line.Flag('F', Forget);
        base.AddTo(line);
        foreach (var id in After) line.Option('a', id);
    }
}
