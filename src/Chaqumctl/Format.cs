using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Chaqumctl;

/// <summary>Human formats: durations, times, sizes, and plain aligned tables.</summary>
public static class Format
{
    /// <summary>0.4s, 12s, 4m 10s, 6h 47m, 26h 03m.</summary>
    public static string Duration(double? seconds)
    {
        if (seconds is not { } s) return "-";
        if (s < 10) return s.ToString("0.0", CultureInfo.InvariantCulture) + "s";
        if (s < 60) return $"{(int)s}s";
        if (s < 3600) return $"{(int)s / 60}m {(int)s % 60:00}s";
        return $"{(int)s / 3600}h {(int)s % 3600 / 60:00}m";
    }

    /// <summary>07:59 today, Mon 06:00 within a week, 2026-11-02 06:00 before.</summary>
    public static string When(string? iso)
    {
        if (iso is null || !DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)) return "-";
        var local = t.ToLocalTime();
        var now = DateTimeOffset.Now;
        if (local.Date == now.Date) return local.ToString("HH:mm", CultureInfo.InvariantCulture);
        if (now - local < TimeSpan.FromDays(6)) return local.ToString("ddd HH:mm", CultureInfo.InvariantCulture);
        return local.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
    }

    public static string Clock(string? iso) =>
        iso is not null && DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)
            ? t.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) : "-";

    public static string Size(long? bytes)
    {
        if (bytes is not { } b || b <= 0) return "-";
        string[] units = { "B", "K", "M", "G", "T" };
        double v = b;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return v.ToString(u == 0 ? "0" : "0.#", CultureInfo.InvariantCulture) + units[u];
    }

    /// <summary>A value for people: "-" for none, control characters escaped.</summary>
    public static string Text(JsonNode? node) => node switch
    {
        null => "-",
        JsonValue v when v.TryGetValue<string>(out var s) => TerminalText.Escape(s),
        _ => TerminalText.Escape(node.ToJsonString()),
    };

    /// <summary>A value for people: "-" for none, control characters escaped.</summary>
    public static string Text(string? text) => text is null ? "-" : TerminalText.Escape(text);

    public static string Text(long? number) => number?.ToString(CultureInfo.InvariantCulture) ?? "-";

    /// <summary>A typed answer as indented JSON, exactly as the daemon sent it.</summary>
    public static void Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        Console.Out.WriteLine(JsonSerializer.Serialize(value, type));

    /// <summary>JSON built here (history, stats, diff, tree): indented, text as it is.</summary>
    public static void Json(JsonNode? node) => Console.Out.WriteLine(node?.ToJsonString(Chaqum.Control.Messages.ControlJson.Indented.Options) ?? "null");

    /// <summary>Columns padded to the widest cell; the last column is not padded. Cells are
    /// shown with control characters escaped, whoever made them.</summary>
    public static void Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { header };
        all.AddRange(rows.Select(r => (IReadOnlyList<string>)r.Select(TerminalText.Escape).ToArray()));
        int columns = header.Count;
        var widths = new int[columns];
        foreach (var row in all)
            for (int c = 0; c < columns; c++) widths[c] = Math.Max(widths[c], c < row.Count ? row[c].Length : 0);
        var sb = new StringBuilder();
        foreach (var row in all)
        {
            sb.Clear();
            for (int c = 0; c < columns; c++)
            {
                string cell = c < row.Count ? row[c] : "";
                sb.Append(c == columns - 1 ? cell : cell.PadRight(widths[c] + 2));
            }
            Console.Out.WriteLine(sb.ToString().TrimEnd());
        }
    }
}
