namespace Chaqum.History;

/// <summary>
/// "Usual" runtime of a script, from its recent successful runs: the median is what ps
/// shows as USUAL; a run is LONGER than usual when it exceeds the 95th percentile, or,
/// while there are fewer than <see cref="ShortHistory"/> runs to judge by, twice the median.
/// </summary>
public sealed record Usual(int Runs, double Median, double P95)
{
    public const int ShortHistory = 20;
    /// <summary>How many recent successful runs are considered.</summary>
    public const int Window = 200;

    public static Usual? Of(IReadOnlyList<double> runtimes)
    {
        if (runtimes.Count == 0) return null;
        return new Usual(runtimes.Count, HistoryStore.Percentile(runtimes, 0.5)!.Value, HistoryStore.Percentile(runtimes, 0.95)!.Value);
    }

    public double Limit => Runs >= ShortHistory ? P95 : 2 * Median;

    public bool IsLonger(double runtimeSeconds) => runtimeSeconds > Limit;
}
