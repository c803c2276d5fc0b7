using System.Globalization;

namespace Chaqum.Web.Pages;

/// <summary>Figures as people read them on the pages (the API keeps the exact ones).</summary>
public static class Format
{
    public static string Duration(double? seconds)
    {
        if (seconds is not { } s) return "-";
        if (s < 10) return s.ToString("0.0", CultureInfo.InvariantCulture) + "s";
        var t = TimeSpan.FromSeconds(s);
        if (t.TotalMinutes < 1) return $"{(int)s}s";
        if (t.TotalHours < 1) return $"{t.Minutes}m {t.Seconds}s";
        if (t.TotalDays < 1) return $"{(int)t.TotalHours}h {t.Minutes}m";
        return $"{(int)t.TotalDays}d {t.Hours}h";
    }

    /// <summary>A wire time ("2026-11-30T18:07:58.898+00:00") as local HH:mm:ss, with the
    /// date when it is not today.</summary>
    public static string Time(string? wire) =>
        wire is not null && DateTimeOffset.TryParse(wire, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? Time(t) : "-";

    public static string Time(DateTimeOffset? time)
    {
        if (time is not { } t) return "-";
        var local = t.ToLocalTime();
        return local.Date == DateTimeOffset.Now.Date ? local.ToString("HH:mm:ss", CultureInfo.InvariantCulture) : local.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
    }

    public static string Bytes(long? bytes)
    {
        if (bytes is not { } b) return "-";
        string[] units = ["B", "K", "M", "G", "T"];
        double v = b;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return v.ToString(u == 0 ? "0" : "0.0", CultureInfo.InvariantCulture) + units[u];
    }

    public static string Command(string script, IEnumerable<string> args) =>
        string.Join(" ", new[] { script }.Concat(args).Select(Quote));

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";
}
