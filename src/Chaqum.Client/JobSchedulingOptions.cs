namespace Chaqum.Client;

/// <summary>
/// What <see cref="EnqueueOptions"/> and <see cref="RepeatOptions"/> share: the group, its
/// limits (inherited from <see cref="GroupLimits"/>; the daemon ignores them without a
/// <see cref="Group"/>) and the per-job options. Null means "not sent".
/// </summary>
public abstract record JobSchedulingOptions : GroupLimits
{
    /// <summary>Put the job in this group, created on first mention (<c>-g</c>).</summary>
    public string? Group { get; init; }

    /// <summary>Kill the job if it still runs this long after it started (<c>-t</c>);
    /// zero or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>: no timeout.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Priority within the group, higher first (<c>-p</c>, default 0).</summary>
    public int? Priority { get; init; }

    /// <summary>While a job with this key is queued or running, the daemon answers its id
    /// instead of creating a new job (<c>-k</c>).</summary>
    public string? Key { get; init; }

    /// <summary>Run again up to this many more times if it fails (<c>-r</c>).</summary>
    public int? Retries { get; init; }

    internal override void AddTo(CommandLine line)
    {
        line.Option('g', Group);
        base.AddTo(line);
        if (Timeout != System.Threading.Timeout.InfiniteTimeSpan) line.Option('t', Timeout);
        line.Option('p', Priority);
        line.Option('k', Key);
        line.Option('r', Retries);
    }
}
