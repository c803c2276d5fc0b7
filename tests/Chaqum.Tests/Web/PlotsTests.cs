using System.Text.RegularExpressions;
using Chaqum.History;
using Chaqum.Web.Pages;

namespace Chaqum.Tests.Web;

/// <summary>The outcome plot's time axis: pure rendering, no server.</summary>
public class PlotsTests
{
    private static RunRecord Run(DateTimeOffset ended, string outcome = "exited") =>
        new() { Id = "x/1", Script = "x", Outcome = outcome, EndedAt = ended, EnqueuedAt = ended };

    private static List<double> BarXs(string svg) =>
        Regex.Matches(svg, "<rect x=\"([0-9.]+)\"[^>]*class=\"ok\"").Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();

    [Test, CancelAfter(10_000)]
    public void Hours_without_runs_keep_their_place_on_the_axis_and_one_hour_is_not_the_whole_width()
    {
        var t = new DateTimeOffset(2026, 12, 4, 10, 15, 0, TimeSpan.Zero).ToLocalTime();
        string gap = Plots.Outcomes([Run(t), Run(t.AddHours(1)), Run(t.AddHours(4)), Run(t.AddHours(4), "failed")], "All runs").Value;
        var xs = BarXs(gap);
        Assert.That(xs, Has.Count.EqualTo(3), gap);
        double slot = xs[1] - xs[0];
        Assert.That(xs[2] - xs[1], Is.EqualTo(3 * slot).Within(0.5), "three hours on from the second bar, not one slot");
        Assert.That(gap, Does.Contain("per hour"));

        string one = Plots.Outcomes([Run(t)], "All runs").Value;
        var width = Regex.Match(one, "width=\"([0-9.]+)\" height=\"[0-9.]+\" class=\"ok\"").Groups[1].Value;
        Assert.That(double.Parse(width, System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(40), "a bar among a day of hours");
    }

    [Test, CancelAfter(10_000)]
    public void Spans_of_days_are_plotted_per_day_with_empty_days_in_place()
    {
        var t = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero).ToLocalTime();
        string svg = Plots.Outcomes([Run(t), Run(t.AddDays(1)), Run(t.AddDays(10))], "All runs").Value;
        var xs = BarXs(svg);
        Assert.That(svg, Does.Contain("per day"));
        Assert.That(xs, Has.Count.EqualTo(3));
        Assert.That(xs[2] - xs[1], Is.EqualTo(9 * (xs[1] - xs[0])).Within(0.5));
    }
}
