namespace Chaqum.Scheduling.Barriers;

/// <summary>The machine's load as of one sample. Null figures are unknown (not yet
/// measurable, or unreadable); a barrier on an unknown figure holds (fails closed).</summary>
public sealed record LoadFigures
{
    /// <summary>Share of CPU time busy (0..1) over the last sample period, like vmstat's
    /// 100 - id - wa; unknown on the first sample.</summary>
    public double? CpuBusy { get; init; }
    public double? Load1 { get; init; }
    public long? MemAvailable { get; init; }
    /// <summary>/proc/pressure/cpu "some avg10" in percent; null when unreadable.</summary>
    public double? CpuPressure { get; init; }
    /// <summary>False when the kernel has no PSI at all: pressure barriers are then ignored.</summary>
    public bool PressureSupported { get; init; } = true;
    /// <summary>What could not be read, if anything.</summary>
    public string? Error { get; init; }
}
