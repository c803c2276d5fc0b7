using System.Globalization;

namespace Chaqum.Protocol;

/// <summary>Parsers for option values; each throws a <see cref="ProtocolException"/> whose
/// message is the E reply.</summary>
public static class Values
{
    private const NumberStyles Decimal = NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign;

    /// <summary>A non-negative number of seconds (fractions allowed), as a TimeSpan.</summary>
    public static TimeSpan Seconds(string text, string what)
    {
        if (!double.TryParse(text, Decimal, CultureInfo.InvariantCulture, out double s) || double.IsNaN(s) || double.IsInfinity(s))
            throw new ProtocolException($"{what}: '{text}' is not a number of seconds");
        if (s < 0) throw new ProtocolException($"{what}: '{text}' is negative");
        // Beyond ~100 years, treat as "forever"; TimeSpan cannot hold much more.
        if (s > 3_153_600_000) s = 3_153_600_000;
        return TimeSpan.FromSeconds(s);
    }

    public static int NonNegativeInt(string text, string what)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw new ProtocolException($"{what}: '{text}' is not a non-negative integer");
        return n;
    }

    public static int Int(string text, string what)
    {
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n))
            throw new ProtocolException($"{what}: '{text}' is not an integer");
        return n;
    }

    public static double NonNegative(string text, string what)
    {
        if (!double.TryParse(text, Decimal, CultureInfo.InvariantCulture, out double v) || double.IsNaN(v) || double.IsInfinity(v))
            throw new ProtocolException($"{what}: '{text}' is not a number");
        if (v < 0) throw new ProtocolException($"{what}: '{text}' is negative");
        return v;
    }

    /// <summary>A CPU share: a fraction 0 &lt; x &lt;= 1, or a percentage 1 &lt; x &lt;= 100
    /// (as the original library sends it). 0 removes the barrier.</summary>
    public static double CpuShare(string text)
    {
        double v = NonNegative(text, "-c (max CPU)");
        if (v > 100) throw new ProtocolException($"-c (max CPU): {text} is above 100%");
        return v > 1 ? v / 100 : v;
    }

    /// <summary>A size in bytes: plain, or with K, M, G, T (powers of 1024; "KB", "KiB",
    /// "k" all accepted).</summary>
    public static long Size(string text, string what)
    {
        string t = text.Trim();
        int end = 0;
        while (end < t.Length && (char.IsAsciiDigit(t[end]) || t[end] == '.')) end++;
        if (end == 0 || !double.TryParse(t.AsSpan(0, end), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
            throw new ProtocolException($"{what}: '{text}' is not a size (like 512M or 2G)");
        string unit = t[end..].ToUpperInvariant();
        if (unit.EndsWith("IB")) unit = unit[..^2];
        else if (unit.Length == 2 && unit[1] == 'B') unit = unit[..1];
        double factor = unit switch
        {
            "" or "B" => 1,
            "K" => 1L << 10,
            "M" => 1L << 20,
            "G" => 1L << 30,
            "T" => 1L << 40,
            _ => throw new ProtocolException($"{what}: '{text}' has an unknown unit (use K, M, G or T)"),
        };
        double bytes = number * factor;
        if (bytes > long.MaxValue / 2) throw new ProtocolException($"{what}: '{text}' is too large");
        return (long)bytes;
    }

    public static int Signal(string text)
    {
        return Native.Signals.Parse(text) ?? throw new ProtocolException($"-s: unknown signal '{text}'");
    }
}

/// <summary>A refused command: the message becomes "E message".</summary>
public sealed class ProtocolException(string message) : Exception(message);
