namespace Chaqum.Tests.JobTrees;

/// <summary>The example trees in jobtrees/ run as the README says.</summary>
public static class ExampleTrees
{
    /// <summary>The repository's jobtrees/ directory, found upwards from the test binary.</summary>
    public static string Directory(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "jobtrees", name);
            if (System.IO.Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"jobtrees/{name} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs an example tree with a private state dir; kills what it left on dispose.</summary>
    public static DaemonProcess Run(string name, TempTree scratch, params string[] args)
    {
        var all = new List<string> { "--state-dir", scratch.StateDir, Directory(name) };
        all.AddRange(args);
        return DaemonProcess.Raw(all.ToArray());
    }
}

[TestFixture, CancelAfter(120_000)]
public class HelloTreeTests
{
    [Test]
    public void Hello_greets_everyone_and_counts_them()
    {
        using var scratch = new TempTree();
        using var d = ExampleTrees.Run("hello", scratch, "Alice", "Bob O'Brien");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output(@"greet/\d+"), Has.Some.Match(@"^Hello, Alice! \(from greet/\d+\)$"));
        Assert.That(d.Output(@"greet/\d+"), Has.Some.Match(@"^Hello, Bob O'Brien! \(from greet/\d+\)$"));
        Assert.That(d.Output("init"), Has.Some.Match(@"^all greeted: S greet/\d+ 0 greet/\d+ 0$"));
        Assert.That(d.Output(@"count/\d+"), Does.Contain("counted 2 greetings"));
        Assert.That(d.Output("init"), Has.Some.Match(@"^counter finished: S count/\d+ 0$"));
    }

    [Test]
    public void Hello_without_arguments_greets_the_world()
    {
        using var scratch = new TempTree();
        using var d = ExampleTrees.Run("hello", scratch);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output(@"greet/\d+"), Has.Some.Match(@"^Hello, world!"));
    }
}
