using System.Globalization;

namespace Chaqum.Scheduling.Barriers;

/// <summary>A group's load barriers: new starts are held until every one of them holds.
/// A value of null means "no barrier"; given as 0 on the wire it removes the barrier.</summary>
public sealed record BarrierSet
{
    public static readonly BarrierSet None = new();

    /// <summary>CPU busy share must be below this (0 &lt; x &lt;= 1).</summary>
    public double? MaxCpu { get; init; }
    /// <summary>1-minute load average must be below this.</summary>
    public double? MaxLoad { get; init; }
    /// <summary>MemAvailable must be at least this many bytes.</summary>
    public long? MinMemory { get; init; }
    /// <summary>CPU pressure (some avg10, percent) must be below this.</summary>
    public double? MaxPressure { get; init; }

    public bool IsEmpty => MaxCpu is null && MaxLoad is null && MinMemory is null && MaxPressure is null;

    public BarrierSet With(GroupLimits limits) => new()
    {
        MaxCpu = limits.MaxCpu is { } c ? (c > 0 ? c : null) : MaxCpu,
        MaxLoad = limits.MaxLoad is { } l ? (l > 0 ? l : null) : MaxLoad,
        MinMemory = limits.MinMemory is { } m ? (m > 0 ? m : null) : MinMemory,
        MaxPressure = limits.MaxPressure is { } p ? (p > 0 ? p : null) : MaxPressure,
    };

    /// <summary>Null when every barrier holds; otherwise the first reason to wait.</summary>
    public string? Hold(LoadFigures? figures)
    {
        if (IsEmpty) return null;
        if (figures is null) return "waiting for a load sample";
        if (MaxCpu is { } cpu)
        {
            if (figures.CpuBusy is not { } busy) return Unknown("cpu", figures);
            if (busy >= cpu) return $"cpu {Pct(busy)} >= {Pct(cpu)}";
        }
        if (MaxLoad is { } load)
        {
            if (figures.Load1 is not { } l1) return Unknown("loadavg", figures);
            if (l1 >= load) return $"load {F(l1)} >= {F(load)}";
        }
        if (MinMemory is { } mem)
        {
            if (figures.MemAvailable is not { } avail) return Unknown("memory", figures);
            if (avail < mem) return $"memory {Size(avail)} available < {Size(mem)}";
        }
        if (MaxPressure is { } pressure && figures.PressureSupported)
        {
            if (figures.CpuPressure is not { } p) return Unknown("cpu pressure", figures);
            if (p >= pressure) return $"cpu pressure {F(p)}% >= {F(pressure)}%";
        }
        return null;
    }

    private static string Unknown(string what, LoadFigures f) =>
        f.Error is { } e ? $"{what} unknown ({e})" : $"waiting for a {what} sample";

    private static string Pct(double share) => (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";
    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    public static string Size(long bytes)
    {
        string[] units = { "B", "K", "M", "G", "T" };
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return v.ToString(u == 0 ? "0" : "0.#", CultureInfo.InvariantCulture) + units[u];
    }

    public override string ToString()
    {
        var parts = new List<string>();
        if (MaxCpu is { } c) parts.Add($"cpu<{Pct(c)}");
        if (MaxLoad is { } l) parts.Add($"load<{F(l)}");
        if (MinMemory is { } m) parts.Add($"mem>={Size(m)}");
        if (MaxPressure is { } p) parts.Add($"pressure<{F(p)}%");
        return parts.Count == 0 ? "-" : string.Join(",", parts);
    }
}
