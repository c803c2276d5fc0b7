namespace Chaqum.Tests.JobTrees;

/// <summary>jobtrees/polyglot: a Perl init hands work items to workers in sh, Python and
/// Perl as messages and collects their answers; the tree ends by itself.</summary>
[TestFixture, CancelAfter(120_000)]
public class PolyglotTreeTests
{
    [Test]
    public void Every_worker_answers_every_item_and_the_tree_ends_by_itself()
    {
        using var scratch = new TempTree();
        using var d = ExampleTrees.Run("polyglot", scratch, "Bob O'Brien says \"hi\"", "naïve café");
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(90)), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init"), Is.EqualTo(new[]
        {
            "item 1: Bob O'Brien says \"hi\"",
            "  shout:   BOB O'BRIEN SAYS \"HI\"",
            "  reverse: \"ih\" syas neirB'O boB",
            "  count:   4 words, 15 letters",
            "item 2: naïve café",
            "  shout:   NAïVE CAFé",
            "  reverse: éfac evïan",
            "  count:   2 words, 9 letters",
            "workers done: count exit 0, reverse exit 0, shout exit 0",
        }), d.Log);
        Assert.That(d.Log, Does.Match(@"workers/shout/\d+: exited: exit 0"));
        Assert.That(d.Log, Does.Match(@"workers/count/\d+: exited: exit 0"));
        Assert.That(d.Log, Does.Match(@"workers/reverse/\d+: exited: exit 0"));
        Assert.That(d.Lines, Has.Some.Match(@" INF init\[err\] sent 2 items to 3 workers$"), "Chaqum::info is logged at info level");
    }

    [Test]
    public void Without_arguments_it_works_on_its_own_examples()
    {
        using var scratch = new TempTree();
        using var d = ExampleTrees.Run("polyglot", scratch);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(90)), Is.EqualTo(0), d.Log);
        var init = d.Output("init");
        Assert.That(init, Does.Contain("item 1: hello world"));
        Assert.That(init, Does.Contain("  shout:   HELLO WORLD"));
        Assert.That(init, Does.Contain("  reverse: txet édöcïnü"));
        Assert.That(init[^1], Is.EqualTo("workers done: count exit 0, reverse exit 0, shout exit 0"));
    }
}
