using System.Text.RegularExpressions;

namespace Chaqum.Tests.JobTrees;

/// <summary>jobtrees/pipeline: a first stage, four stages in parallel after it, a final
/// stage after all four, composed with enqueue -a and wait from Python.</summary>
[TestFixture, CancelAfter(120_000)]
public class PipelineTreeTests
{
    private static int IndexOf(IReadOnlyList<string> lines, string pattern)
    {
        var regex = new Regex(pattern);
        for (int i = 0; i < lines.Count; i++)
            if (regex.IsMatch(lines[i])) return i;
        return -1;
    }

    private static List<string> Ids(IEnumerable<string> lines, string script) =>
        lines.Select(l => Regex.Match(l, $@"\b({script}/\d+): started")).Where(m => m.Success)
            .Select(m => m.Groups[1].Value).Distinct().ToList();

    [Test]
    public void The_stages_run_in_sequence_and_in_parallel_as_described()
    {
        using var scratch = new TempTree();
        var input = scratch.File_("words.txt", "one two three\nfour five\nsix extraordinarily\n");
        using var d = ExampleTrees.Run("pipeline", scratch, input);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var lines = d.Lines;

        Assert.That(d.Output(@"report/\d+"), Is.EqualTo(new[] { "3 lines, 7 words, 44 characters, longest word: extraordinarily" }), d.Log);
        var init = d.Output("init");
        Assert.That(init, Has.Count.EqualTo(7), d.Log);
        Assert.That(init.Take(6), Has.All.Match(@"^(fetch|count|report)/\d+: exit 0$"));
        Assert.That(init[^1], Is.EqualTo("pipeline done"));

        // The order the dependencies impose, as the daemon logged it.
        var fetch = Ids(lines, "fetch").Single();
        var counts = Ids(lines, "count");
        var report = Ids(lines, "report").Single();
        Assert.That(counts, Has.Count.EqualTo(4));
        int fetchEnded = IndexOf(lines, $@" {Regex.Escape(fetch)}: exited: exit 0");
        int reportStarted = IndexOf(lines, $@" {Regex.Escape(report)}: started");
        foreach (var count in counts)
        {
            Assert.That(IndexOf(lines, $@" {Regex.Escape(count)}: started"), Is.GreaterThan(fetchEnded), $"{count} after {fetch}");
            Assert.That(IndexOf(lines, $@" {Regex.Escape(count)}: exited: exit 0"), Is.LessThan(reportStarted), $"{count} before {report}");
        }
    }

    [Test]
    public void A_failed_first_stage_ends_the_rest_without_running_them()
    {
        using var scratch = new TempTree();
        using var d = ExampleTrees.Run("pipeline", scratch, scratch.PathOf("missing.txt"));
        Assert.That(d.WaitForExit(), Is.EqualTo(0), "the daemon ends by itself whatever the jobs did");

        var init = d.Output("init");
        Assert.That(init[0], Does.Match(@"^fetch/\d+: exit 1$"), d.Log);
        Assert.That(init.Skip(1), Has.Count.EqualTo(5).And.All.Match(@"^(count|report)/\d+: never-ran$"), d.Log);
        Assert.That(d.HasLine(@"ERR fetch/\d+\[err\] cannot fetch .*missing.txt: No such file or directory$"), Is.True, d.Log);
        Assert.That(d.HasLine(@"ERR init\[err\] pipeline failed$"), Is.True, d.Log);
        Assert.That(d.HasLine(@"WRN init: failed: exit 1"), Is.True, d.Log);
        Assert.That(d.HasLine(@"(count|report)/\d+: started"), Is.False, d.Log);
    }
}
