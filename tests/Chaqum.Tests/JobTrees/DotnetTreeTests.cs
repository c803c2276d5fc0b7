namespace Chaqum.Tests.JobTrees;

/// <summary>jobtrees/dotnet: a .NET entry job (built on first run) fans work out to sh
/// workers and collects their statuses and messages.</summary>
[TestFixture, CancelAfter(120_000)]
public class DotnetTreeTests
{
    [Test]
    public void Fanout_collects_every_workers_status_and_result()
    {
        using var scratch = new TempTree();
        using var d = ExampleTrees.Run("dotnet", scratch, "hello", "world", "7up");
        // The first run builds the program: allow for a slow machine.
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(100)), Is.EqualTo(0), d.Log);

        Assert.That(d.Output("init"), Is.EqualTo(new[]
        {
            "hello: exit 0",
            "world: exit 0",
            "7up: exit 2",
            "received: hello -> HELLO",
            "received: world -> WORLD",
            "done: 2 succeeded, 1 failed",
        }), d.Log);
        Assert.That(d.Output(@"shout/\d+"), Has.Some.Match(@"^HELLO! \(slot [01]\)$"));
        Assert.That(d.HasLine(@"ERR shout/\d+\[err\] will not shout a number: 7up$"), Is.True, d.Log);
        Assert.That(d.HasLine(@"WRN init\[err\] 1 of 3 workers failed$"), Is.True, d.Log);
    }
}
