namespace Chaqum.Client;

/// <summary>Options of <c>repeat</c>. Group limits update the group once, at registration;
/// the per-job options apply to every firing.</summary>
public sealed record RepeatOptions : JobSchedulingOptions
{
    /// <summary>Fire even while the previous firing is still queued or running (<c>-o</c>);
    /// by default such a firing is skipped.</summary>
    public bool AllowOverlap { get; init; }

    /// <summary>The time zone a cron expression is read in, as an IANA name such as
    /// <c>Europe/Berlin</c> (<c>-z</c>); null: the daemon's zone. Cron repeats only.</summary>
    public string? Zone { get; init; }

    /// <summary>A file trigger's quiet time: it fires once no change has come for this long
    /// (<c>--settle</c>); null: the daemon's default, 0.5 s. File triggers only.</summary>
    public TimeSpan? Settle { get; init; }

    internal override void AddTo(CommandLine line)
    {
        if (Settle is { } settle) line.Long("settle", CommandLine.Seconds(settle));
        line.Option('z', Zone);
        line.Flag('o', AllowOverlap);
        base.AddTo(line);
    }
}
