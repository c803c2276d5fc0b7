using System.Globalization;
using Cronos;
using CronosExpression = Cronos.CronExpression;

namespace Chaqum.Scheduling.Repeats;

/// <summary>
/// Parses cron expressions into an <see cref="ICronSchedule"/> backed by Cronos.
/// Accepts standard 5-field cron, the original chaqum's 6-field form with leading seconds,
/// month and weekday names (short or full), 7 as Sunday, the @hourly/@daily/@weekly/
/// @monthly/@yearly macros, and Cronos's additions: <c>L</c> (last day of the month,
/// <c>L-3</c> three days before it; <c>5L</c> the last Friday), <c>W</c> (the weekday
/// nearest a day: <c>15W</c>, <c>LW</c>) and <c>#</c> (<c>1#2</c> the second Monday).
/// Cronos matches day-of-month AND day-of-week; classic cron matches either one when both
/// are restricted, so in that case two schedules are combined.
/// </summary>
public static class CronExpression
{
    private static readonly Dictionary<string, string> Macros = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
    };

    private static readonly string[] DayNames = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

    /// <exception cref="FormatException">With a message fit for an E reply.</exception>
    public static ICronSchedule Parse(string text)
    {
        string expr = text.Trim();
        if (expr.StartsWith('@'))
        {
            if (!Macros.TryGetValue(expr, out var expanded))
                throw new FormatException($"unknown cron macro '{expr}'");
            expr = expanded;
        }
        var fields = expr.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is not (5 or 6))
            throw new FormatException($"cron expression '{text}' has {fields.Length} fields; expected 5 (or 6 with leading seconds)");
        var format = fields.Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        int dom = fields.Length - 3, dow = fields.Length - 1;
        try { fields[dow] = NormaliseWeekdays(fields[dow]); }
        catch (FormatException e) { throw new FormatException($"bad cron expression '{text}': {e.Message}"); }

        bool domRestricted = !fields[dom].StartsWith('*') && fields[dom] != "?";
        bool dowRestricted = !fields[dow].StartsWith('*') && fields[dow] != "?";
        if (!(domRestricted && dowRestricted)) return Build(fields, format, text);

        var byDay = (string[])fields.Clone();
        byDay[dow] = "*";
        var byWeekday = (string[])fields.Clone();
        byWeekday[dom] = "*";
        return new Either(Build(byDay, format, text), Build(byWeekday, format, text));
    }

    private static Schedule Build(string[] fields, CronFormat format, string text)
    {
        try
        {
            return new Schedule(CronosExpression.Parse(string.Join(' ', fields), format));
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new FormatException($"bad cron expression '{text}': {Reason(e.Message)}");
        }
    }

    /// <summary>Cronos says "The given cron expression has an invalid format. Minutes: Value
    /// must be..."; the part after the first sentence is the useful one.</summary>
    private static string Reason(string message)
    {
        int dot = message.IndexOf(". ", StringComparison.Ordinal);
        return (dot > 0 ? message[(dot + 2)..] : message).TrimEnd('.');
    }

    /// <summary>Rewrites the weekday field as an explicit list of 0..6, because Cronos knows
    /// neither full day names nor backwards-range errors worth showing. A nth-weekday
    /// (<c>fri#3</c>) or last-weekday (<c>friL</c>) item keeps its form, with the day as a
    /// number; Cronos takes it only alone in its field.</summary>
    private static string NormaliseWeekdays(string field)
    {
        if (field is "*" or "?") return field;
        var items = field.Split(',');
        if (items.Length == 1 && NthOrLast(field) is { } special) return special;
        var days = new SortedSet<int>();
        foreach (var item in items)
        {
            if (NthOrLast(item) is not null)
                throw new FormatException($"'{item}' must stand alone in the weekday field '{field}'");
            string range = item;
            int step = 1;
            int slash = item.IndexOf('/');
            if (slash >= 0)
            {
                range = item[..slash];
                if (!int.TryParse(item[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1)
                    throw new FormatException($"bad step in weekday field '{field}'");
            }
            int from, to;
            if (range == "*") { from = 0; to = 6; }
            else if (range.Contains('-'))
            {
                var ends = range.Split('-');
                if (ends.Length != 2) throw new FormatException($"bad range in weekday field '{field}'");
                from = Weekday(ends[0], field);
                to = Weekday(ends[1], field);
                if (to == 0 && from > 0) to = 7; // "5-0" or "fri-sun": through Sunday
            }
            else
            {
                from = Weekday(range, field);
                to = slash >= 0 ? 6 : from; // "1/2" means from 1 to the end, every 2
            }
            if (from > to) throw new FormatException($"backwards range in weekday field '{field}'");
            for (int d = from; d <= to; d += step) days.Add(d % 7);
        }
        return days.Count == 7 ? "*" : string.Join(',', days);
    }

    /// <summary>"5#3", "fri#3" → "5#3"; "5L", "friL" → "5L"; anything else null.</summary>
    private static string? NthOrLast(string item)
    {
        int hash = item.IndexOf('#');
        if (hash > 0) return Weekday(item[..hash], item) % 7 + item[hash..];
        if (item.Length > 1 && item[^1] is 'L' or 'l' && !item.Contains('/') && !item.Contains('-'))
            return Weekday(item[..^1], item) % 7 + "L";
        return null;
    }

    private static int Weekday(string token, string field)
    {
        if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            if (n > 7) throw new FormatException($"weekday {n} out of range 0-7 in '{field}'");
            return n;
        }
        int index = token.Length >= 3 ? Array.IndexOf(DayNames, token[..3].ToLowerInvariant()) : -1;
        if (index < 0 || (token.Length > 3 && !Enum.TryParse<DayOfWeek>(token, true, out _)))
            throw new FormatException($"unknown weekday '{token}' in '{field}'");
        return index;
    }

    private sealed class Schedule(CronosExpression expression) : ICronSchedule
    {
        public DateTimeOffset? NextAfter(DateTimeOffset after, TimeZoneInfo zone) =>
            expression.GetNextOccurrence(after, zone);
    }

    private sealed class Either(ICronSchedule a, ICronSchedule b) : ICronSchedule
    {
        public DateTimeOffset? NextAfter(DateTimeOffset after, TimeZoneInfo zone)
        {
            var x = a.NextAfter(after, zone);
            var y = b.NextAfter(after, zone);
            if (x is null) return y;
            if (y is null) return x;
            return x < y ? x : y;
        }
    }
}
