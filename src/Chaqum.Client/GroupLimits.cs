namespace Chaqum.Client;

/// <summary>
/// Limits of a group (<c>-m -c -l -M -P</c>) and its failure breaker (<c>-B</c>). A limit left null is not sent and keeps its
/// previous value; the latest value sent wins. 0 removes a limit.
/// </summary>
public record GroupLimits
{
    /// <summary>At most this many jobs of the group run at once (<c>-m</c>).</summary>
    public int? MaxProcs { get; init; }

    /// <summary>Start only while the machine's CPU busy share is below this (<c>-c</c>): a
    /// fraction (0.8) or, above 1, a percentage (80).</summary>
    public double? MaxCpu { get; init; }

    /// <summary>Start only while the 1-minute load average is below this (<c>-l</c>).</summary>
    public double? MaxLoad { get; init; }

    /// <summary>Start only while MemAvailable is at least this (<c>-M</c>): bytes, or with a
    /// unit in powers of 1024 (<c>"512M"</c>, <c>"2G"</c>, <c>"2GiB"</c>).</summary>
    public string? MinMemory { get; init; }

    /// <summary>Start only while CPU pressure (some avg10) is below this percentage (<c>-P</c>).</summary>
    public double? MaxPressure { get; init; }

    /// <summary>Pause the group after this many failed runs in a row (non-zero exit,
    /// signal, timeout) until an operator resumes it (<c>-B</c>); 0 turns that off.</summary>
    public int? BreakAfter { get; init; }

    /// <summary>Adds everything these options say (a derived record adds more).</summary>
    internal virtual void AddTo(CommandLine line) => AddLimitsTo(line);

    /// <summary>Adds only the group limits.</summary>
    internal void AddLimitsTo(CommandLine line)
    {
        line.Option('m', MaxProcs);
        line.Option('c', MaxCpu);
        line.Option('l', MaxLoad);
        line.Option('M', MinMemory);
        line.Option('P', MaxPressure);
        line.Option('B', BreakAfter);
    }
}
