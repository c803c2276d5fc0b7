namespace Chaqum.Tests.Unit;

/// <summary>The one knob for a busy machine, CHAQUM_TEST_TIMEOUT_SCALE, reaches every
/// deadline: the waits of Support and the CancelAfter of each test.</summary>
[TestFixture, CancelAfter(30_000)]
public class DeadlineTests
{
    [Test]
    public void Waits_and_each_tests_cancel_after_grow_with_the_knob()
    {
        Assert.That(Deadline.Seconds(10), Is.EqualTo(TimeSpan.FromSeconds(10 * Deadline.Factor)));
        Assert.That(Poll.Default, Is.EqualTo(TimeSpan.FromSeconds(60 * Deadline.Factor)));
        var own = TestContext.CurrentContext.Test.Properties.Get("Timeout");
        if (Deadline.Factor == 1)
            Assert.That(own, Is.Null, "unscaled: the fixture's CancelAfter applies as written");
        else
            Assert.That(own, Is.EqualTo((int)(30_000 * Deadline.Factor)), "the fixture's CancelAfter, scaled, on the test itself");
    }
}
