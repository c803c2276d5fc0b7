using System.Globalization;
using Chaqum.History;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>
/// Plots drawn on the server as SVG, inline in the page: no chart library, no script.
/// Runtime of each run over time (successes as dots, failures as crosses, the median as a
/// line, so drift shows), and successes and failures per hour or per day as stacked bars.
/// </summary>
public static class Plots
{
    private const int W = 720, Ht = 220, Left = 56, Right = 12, Top = 12, Bottom = 36;

    private static string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    public static Html Runtimes(IReadOnlyList<RunRecord> runs, string title)
    {
        var points = runs.Where(r => r.RuntimeSeconds is not null && (r.EndedAt ?? r.StartedAt) is not null)
            .Select(r => (Time: (r.EndedAt ?? r.StartedAt)!.Value, Seconds: r.RuntimeSeconds!.Value, Ok: r.Outcome == "exited")).ToList();
        if (points.Count == 0) return H($"<p>No runs with a runtime to plot.</p>");
        var t0 = points.Min(p => p.Time);
        var t1 = points.Max(p => p.Time);
        double span = Math.Max(1, (t1 - t0).TotalSeconds);
        double max = Math.Max(0.001, points.Max(p => p.Seconds)) * 1.1;
        double X(DateTimeOffset t) => Left + (W - Left - Right) * ((t - t0).TotalSeconds / span);
        double Y(double s) => Top + (Ht - Top - Bottom) * (1 - s / max);
        var marks = Join(points.Select(p => p.Ok
            ? H($"<circle cx=\"{N(X(p.Time))}\" cy=\"{N(Y(p.Seconds))}\" r=\"3\" class=\"ok\"><title>{Format.Time(p.Time)}: {Format.Duration(p.Seconds)}</title></circle>")
            : H($"<path d=\"M{N(X(p.Time) - 3)} {N(Y(p.Seconds) - 3)}l6 6m0 -6l-6 6\" class=\"fail\"><title>{Format.Time(p.Time)}: {Format.Duration(p.Seconds)} (failed)</title></path>")));
        var ok = points.Where(p => p.Ok).Select(p => p.Seconds).ToList();
        var median = HistoryStore.Percentile(ok, 0.5) is { } m
            ? H($"<line x1=\"{Left}\" x2=\"{W - Right}\" y1=\"{N(Y(m))}\" y2=\"{N(Y(m))}\" class=\"median\"><title>median {Format.Duration(m)}</title></line>")
            : Html.Empty;
        return Frame(title, H($"""
            {Axes(Format.Duration(max), Format.Time(t0), Format.Time(t1))}
            {median}{marks}
            """));
    }

    /// <summary>Successes and failures per hour (a span under two days) or per day, on a
    /// time axis without gaps: an hour (a day) with no runs is an empty slot, not left
    /// out, and the axis covers at least a day of hours (a week of days) up to the last
    /// run, so that one busy hour is a bar among its neighbours, not the whole width.</summary>
    public static Html Outcomes(IReadOnlyList<RunRecord> runs, string title)
    {
        var times = runs.Select(r => (Time: (r.EndedAt ?? r.StartedAt ?? r.EnqueuedAt).ToLocalTime(), Ok: r.Outcome == "exited")).ToList();
        if (times.Count == 0) return H($"<p>No runs to plot.</p>");
        bool hourly = (times.Max(t => t.Time) - times.Min(t => t.Time)).TotalHours < 48;
        var step = hourly ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        DateTimeOffset Bucket(DateTimeOffset t) => hourly ? new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, 0, 0, t.Offset) : new DateTimeOffset(t.Date, t.Offset);
        var counts = times.GroupBy(t => Bucket(t.Time)).ToDictionary(g => g.Key, g => (Ok: g.Count(t => t.Ok), Failed: g.Count(t => !t.Ok)));
        var lastStart = counts.Keys.Max();
        var firstStart = counts.Keys.Min();
        // Days are stepped past midnight and cut back to it in local time, so that a day of
        // 23 or 25 hours (a DST change) still starts at its own midnight.
        var skew = hourly ? TimeSpan.Zero : TimeSpan.FromHours(2);
        var shortest = Bucket((lastStart - step * (hourly ? 23 : 6) + skew).ToLocalTime());
        if (shortest < firstStart) firstStart = shortest;
        var buckets = new List<(DateTimeOffset Start, int Ok, int Failed)>();
        for (var t = firstStart; t <= lastStart; t = Bucket((t + step + skew).ToLocalTime()))
        {
            var (ok, failed) = counts.GetValueOrDefault(t);
            buckets.Add((t, ok, failed));
        }
        int most = Math.Max(1, buckets.Max(b => b.Ok + b.Failed));
        double slot = (W - Left - Right) / (double)buckets.Count;
        double bar = Math.Max(1, slot * 0.7);
        double Hgt(int n) => (Ht - Top - Bottom) * n / (double)most;
        string Label(DateTimeOffset t) => hourly ? t.ToString("MM-dd HH:00", CultureInfo.InvariantCulture) : t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var bars = Join(buckets.Where(b => b.Ok + b.Failed > 0).Select(b =>
        {
            int i = buckets.IndexOf(b);
            double x = Left + i * slot + (slot - bar) / 2;
            double okH = Hgt(b.Ok), failH = Hgt(b.Failed);
            double baseY = Ht - Bottom;
            return H($"""
                <g><title>{Label(b.Start)}: {b.Ok} succeeded, {b.Failed} failed</title>
                <rect x="{N(x)}" y="{N(baseY - okH)}" width="{N(bar)}" height="{N(okH)}" class="ok"/>
                <rect x="{N(x)}" y="{N(baseY - okH - failH)}" width="{N(bar)}" height="{N(failH)}" class="fail"/></g>
                """);
        }));
        return Frame($"{title} per {(hourly ? "hour" : "day")}", H($"""
            {Axes(most.ToString(CultureInfo.InvariantCulture), Label(buckets[0].Start), Label(buckets[^1].Start))}
            {bars}
            """), legend: H($"<span class=\"key ok\"></span> succeeded <span class=\"key fail\"></span> failed"));
    }

    private static Html Axes(string top, string from, string to) => H($"""
        <line x1="{Left}" y1="{Top}" x2="{Left}" y2="{Ht - Bottom}" class="axis"/>
        <line x1="{Left}" y1="{Ht - Bottom}" x2="{W - Right}" y2="{Ht - Bottom}" class="axis"/>
        <text x="{Left - 6}" y="{Top + 10}" text-anchor="end">{top}</text>
        <text x="{Left - 6}" y="{Ht - Bottom}" text-anchor="end">0</text>
        <text x="{Left}" y="{Ht - Bottom + 18}">{from}</text>
        <text x="{W - Right}" y="{Ht - Bottom + 18}" text-anchor="end">{to}</text>
        """);

    private static Html Frame(string title, Html content, Html? legend = null) => H($"""
        <figure class="plot"><figcaption>{title} {legend ?? Html.Empty}</figcaption>
        <svg viewBox="0 0 {W} {Ht}" width="{W}" height="{Ht}" role="img" aria-label="{title}">{content}</svg></figure>
        """);
}
