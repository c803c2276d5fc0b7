using System.Globalization;

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

    /// <summary>Start no sooner than this from now (<c>-d</c>); the job is "scheduled"
    /// until then.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Start no sooner than this instant (<c>-A</c>, sent in ISO 8601 with its
    /// offset).</summary>
    public DateTimeOffset? At { get; init; }

    /// <summary>Start no sooner than the next time the daemon's clock shows this time of
    /// day (<c>-A HH:MM:SS</c>, in the daemon's time zone).</summary>
    public TimeOnly? AtTimeOfDay { get; init; }

    /// <summary>Do not start until an operator releases it (<c>-H</c>; chaqumctl release).</summary>
    public bool Held { get; init; }

    /// <summary>Ahead of every job waiting in its group, whatever their priority (<c>-U</c>).</summary>
    public bool Urgent { get; init; }

    /// <summary>If it is running when the daemon stops in order, run it again after the
    /// restart (<c>-R</c>).</summary>
    public bool Requeue { get; init; }

    internal override void AddTo(CommandLine line)
    {
        if ((Delay is not null ? 1 : 0) + (At is not null ? 1 : 0) + (AtTimeOfDay is not null ? 1 : 0) > 1)
            throw new ArgumentException("enqueue takes one of Delay, At and AtTimeOfDay");
        line.Flag('F', Forget);
        base.AddTo(line);
        foreach (var id in After) line.Option('a', id);
        line.Option('d', Delay);
        line.Option('A', At?.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture)
            ?? AtTimeOfDay?.ToString("HH:mm:ss", CultureInfo.InvariantCulture));
        line.Flag('H', Held);
        line.Flag('U', Urgent);
        line.Flag('R', Requeue);
    }
}
