using System.Globalization;

namespace Chaqum.Web.Api;

/// <summary>A "since" as chaqumctl history takes it: a time ago (30m, 2h, 3d, 1w) or a
/// local date or time (2026-11-22, 2026-11-22T06:00).</summary>
public static class Since
{
    public static DateTimeOffset? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        char unit = text[^1];
        if ("smhdw".Contains(unit) && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 && n < 1e6)
        {
            var span = unit switch { 's' => TimeSpan.FromSeconds(n), 'm' => TimeSpan.FromMinutes(n), 'h' => TimeSpan.FromHours(n), 'd' => TimeSpan.FromDays(n), _ => TimeSpan.FromDays(7 * n) };
            return DateTimeOffset.Now - span;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var t)) return t;
        throw new SubmissionException($"since '{text}': give a time ago (30m, 2h, 3d, 1w) or a date (2026-11-22, 2026-11-22T06:00)");
    }
}
