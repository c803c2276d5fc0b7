namespace Chaqum.Tests.JobTrees;

/// <summary>jobtrees/plans runs its plan documents as its README says.</summary>
[TestFixture, CancelAfter(120_000)]
public class PlansTreeTests
{
    [Test]
    public void The_nightly_plan_succeeds_with_its_conversions_two_at_a_time()
    {
        using var scratch = new TempTree();
        using var d = ExampleTrees.Run("plans", scratch);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init"), Has.Some.Match(@"^plans/nightly.json: plan/\d+ succeeded$"));
        Assert.That(d.Output(@"convert/\d+"), Has.Some.Match(@"^converted a\.png in slot [01]$"));
        Assert.That(d.Output(@"convert/\d+"), Has.All.Match(@"in slot [01]$"));
        Assert.That(d.Output(@"report/\d+"), Is.EqualTo(new[] { "report for 2026-12-01: all images converted" }));
        Assert.That(d.Log, Does.Match(@"convert/\d+: started, pid \d+, slot \d \[plan/\d+ > 1 > convert b\.png\]"));
    }

    [Test]
    public void A_failing_plan_fails_and_a_plan_naming_a_script_outside_the_tree_is_refused()
    {
        using var scratch = new TempTree();
        using var d = ExampleTrees.Run("plans", scratch, "plans/failing.json", "plans/refused.json");
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        var init = d.Output("init");
        Assert.That(init, Has.Some.Match(@"^plans/failing.json: plan/\d+ failed$"));
        Assert.That(init, Has.Some.EqualTo("plans/refused.json: refused: plan: $.work[1].command: '/bin/sh' is outside the job tree"));
        Assert.That(d.Log, Does.Match(@"plan/\d+: failed after \S+: step convert/\d+ \(plan/\d+ > 1 > the broken one\): exit 2"));
        Assert.That(d.Output(@"report/\d+"), Is.Empty);
        Assert.That(d.Output(@"fetch/\d+"), Has.None.Contain("2026-12-03"), "nothing of the refused plan ran");
    }
}
