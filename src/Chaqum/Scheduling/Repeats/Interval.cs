using System.Globalization;

namespace Chaqum.Scheduling.Repeats;

/// <summary>Parses repeat intervals: "90s", "15m", "1h30m", "2d", "1w", "0.5s", "250ms",
/// a plain number of seconds, and the original chaqum's "5s0m0h0d0w".</summary>
public static class Interval
{
    /// <exception cref="FormatException">With a message fit for an E reply.</exception>
    public static TimeSpan Parse(string text)
    {
        if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double plain))
            return Check(FromSeconds(plain, text), text);

        double seconds = 0;
        int i = 0;
        if (text.Length == 0) throw new FormatException("empty interval");
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
            if (i == start) throw new FormatException($"bad interval '{text}': expected a number at '{text[start..]}'");
            if (!double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
                throw new FormatException($"bad interval '{text}': '{text[start..i]}' is not a number");
            int unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i])) i++;
            string unit = text[unitStart..i].ToLowerInvariant();
            seconds += unit switch
            {
                "ms" => value / 1000,
                "s" or "sec" => value,
                "m" or "min" => value * 60,
                "h" => value * 3600,
                "d" => value * 86400,
                "w" => value * 7 * 86400,
                "" => throw new FormatException($"bad interval '{text}': number without unit (s, m, h, d, w)"),
                _ => throw new FormatException($"bad interval '{text}': unknown unit '{unit}'"),
            };
        }
        return Check(FromSeconds(seconds, text), text);
    }

    /// <summary>The longest interval: a hundred years. Beyond, the next firing's wall-clock
    /// time can pass year 9999 (DateTime throws), TimeSpan itself overflows past ~29 000
    /// years, and a plain number of 400 digits parses as infinity: all refused here.</summary>
    private const double MaxSeconds = 100 * 365.25 * 86400;

    private static TimeSpan FromSeconds(double seconds, string text)
    {
        if (double.IsInfinity(seconds) || seconds > MaxSeconds)
            throw new FormatException($"interval '{text}' is too long (at most 100 years)");
        return TimeSpan.FromSeconds(seconds);
    }

    private static TimeSpan Check(TimeSpan interval, string text)
    {
        if (interval < TimeSpan.FromMilliseconds(1))
            throw new FormatException($"interval '{text}' must be longer than zero");
        return interval;
    }

    public static string Format(TimeSpan t)
    {
        if (t.TotalSeconds < 1) return $"{t.TotalMilliseconds:0}ms";
        var parts = new List<string>();
        if (t.Days >= 7) { parts.Add($"{t.Days / 7}w"); t -= TimeSpan.FromDays(t.Days / 7 * 7); }
        if (t.Days > 0) parts.Add($"{t.Days}d");
        if (t.Hours > 0) parts.Add($"{t.Hours}h");
        if (t.Minutes > 0) parts.Add($"{t.Minutes}m");
        double s = t.Seconds + t.Milliseconds / 1000.0;
        if (s > 0) parts.Add(s.ToString("0.###", CultureInfo.InvariantCulture) + "s");
        return string.Concat(parts);
    }
}
