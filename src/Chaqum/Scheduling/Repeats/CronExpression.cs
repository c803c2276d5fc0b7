using System.Globalization;
using NCrontab;

namespace Chaqum.Scheduling.Repeats;

/// <summary>
/// Parses cron expressions into an <see cref="ICronSchedule"/> backed by NCrontab.Signed.
/// Accepts standard 5-field cron, the original chaqum's 6-field form with leading seconds,
/// month and weekday names, 7 as Sunday, and the @hourly/@daily/@weekly/@monthly/@yearly
/// macros. NCrontab matches day-of-month AND day-of-week; classic cron matches either one
/// when both are restricted, so in that case two schedules are combined.
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
        bool seconds = fields.Length == 6;
        int dom = seconds ? 3 : 2, dow = seconds ? 5 : 4;
        try { fields[dow] = NormaliseWeekdays(fields[dow]); }
        catch (FormatException e) { throw new FormatException($"bad cron expression '{text}': {e.Message}"); }

        bool domRestricted = !fields[dom].StartsWith('*') && fields[dom] != "?";
        bool dowRestricted = !fields[dow].StartsWith('*') && fields[dow] != "?";
        if (fields[dom] == "?") fields[dom] = "*";
        if (fields[dow] == "?") fields[dow] = "*";

        ICronSchedule schedule;
        if (domRestricted && dowRestricted)
        {
            var byDay = (string[])fields.Clone();
            byDay[dow] = "*";
            var byWeekday = (string[])fields.Clone();
            byWeekday[dom] = "*";
            schedule = new Either(Build(byDay, seconds, text), Build(byWeekday, seconds, text));
        }
        else
        {
            schedule = Build(fields, seconds, text);
        }
        return schedule;
    }

    private static Schedule Build(string[] fields, bool seconds, string text)
    {
        try
        {
            var parsed = CrontabSchedule.Parse(string.Join(' ', fields), new CrontabSchedule.ParseOptions { IncludingSeconds = seconds });
            return new Schedule(parsed);
        }
        catch (CrontabException e)
        {
            throw new FormatException($"bad cron expression '{text}': {FirstSentence(e.Message)}");
        }
        catch (OverflowException)
        {
            // NCrontab's int.Parse on a number like */99999999999.
            throw new FormatException($"bad cron expression '{text}': a number is too large");
        }
    }

    private static string FirstSentence(string message)
    {
        int dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..dot] : message.TrimEnd('.');
    }

    /// <summary>Rewrites the weekday field as an explicit list of 0..6 (names and 7 =
    /// Sunday allowed), because NCrontab knows neither 7 nor every name spelling.</summary>
    private static string NormaliseWeekdays(string field)
    {
        if (field is "*" or "?") return field;
        var days = new SortedSet<int>();
        foreach (var item in field.Split(','))
        {
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

    private sealed class Schedule(CrontabSchedule schedule) : ICronSchedule
    {
        public DateTime? NextAfter(DateTime local)
        {
            // NCrontab returns its end time when nothing matches before it.
            var end = local.AddYears(10);
            var next = schedule.GetNextOccurrence(local, end);
            return next >= end ? null : next;
        }
    }

    private sealed class Either(ICronSchedule a, ICronSchedule b) : ICronSchedule
    {
        public DateTime? NextAfter(DateTime local)
        {
            var x = a.NextAfter(local);
            var y = b.NextAfter(local);
            if (x is null) return y;
            if (y is null) return x;
            return x < y ? x : y;
        }
    }
}
