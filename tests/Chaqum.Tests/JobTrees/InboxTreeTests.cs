using System.Text.RegularExpressions;

namespace Chaqum.Tests.JobTrees;

/// <summary>jobtrees/inbox: a file trigger hands the scanner the files that arrive; it
/// feeds a capped, barrier-gated convert group. The tree runs until stopped.</summary>
[TestFixture, CancelAfter(180_000)]
public class InboxTreeTests
{
    [Test]
    public void Files_there_at_start_and_arriving_later_are_each_converted_once()
    {
        using var scratch = new TempTree();
        var dir = Path.Combine(scratch.Root, "work");
        var inbox = Path.Combine(dir, "inbox");
        var outbox = Path.Combine(dir, "outbox");
        Directory.CreateDirectory(inbox);
        var early = new[] { "a.txt", "b.txt", "with space.txt", "it's.txt" };
        foreach (var name in early) File.WriteAllText(Path.Combine(inbox, name), $"hello from {name}\n");
        File.WriteAllText(Path.Combine(inbox, "empty.txt"), "");

        // No CPU barrier (a busy test machine must not stall it); the memory barrier stays.
        using var d = ExampleTrees.Run("inbox", scratch, "-s", "0.1", "-c", "0", dir);
        foreach (var name in early)
            Poll.Until(() => File.Exists(Path.Combine(outbox, name)), $"{name} to be converted. Log:\n{d.Log}");
        d.WaitForLine(@"watching .*/inbox; stop with Ctrl-C");

        // Written in place (the trigger fires once it is closed), moved in, and a name
        // with a newline, which only a NUL-separated list carries intact.
        var late = new[] { "written.txt", "moved.txt", "new\nline.txt" };
        File.WriteAllText(Path.Combine(inbox, late[0]), $"hello from {late[0]}\n");
        File.WriteAllText(Path.Combine(dir, "moved.tmp"), $"hello from {late[1]}\n");
        File.Move(Path.Combine(dir, "moved.tmp"), Path.Combine(inbox, late[1]));
        File.WriteAllText(Path.Combine(inbox, late[2]), $"hello from {late[2]}\n");
        foreach (var name in late)
            Poll.Until(() => File.Exists(Path.Combine(outbox, name)), $"{name} to be converted. Log:\n{d.Log}");
        Poll.Until(() => File.Exists(Path.Combine(dir, "failed", "empty.txt")), "the empty file to end in failed/");
        Poll.Until(() => Directory.GetFiles(inbox).Length == 0, "the inbox to be emptied");

        d.Signal(15);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        foreach (var name in early.Concat(late))
            Assert.That(File.ReadAllText(Path.Combine(outbox, name)), Is.EqualTo($"HELLO FROM {name.ToUpperInvariant()}\n"));
        var converted = d.Output(@"convert/\d+", "err").Where(l => l.Contains(" converted (")).ToList();
        foreach (var name in early.Concat(late).Where(n => !n.Contains('\n')))
            Assert.That(converted.Count(l => l.StartsWith(name + " converted")), Is.EqualTo(1), $"{name} converted once. Log:\n{d.Log}");
        var slots = converted.Select(l => Regex.Match(l, @"slot (\d+)").Groups[1].Value).Distinct();
        Assert.That(slots, Is.SubsetOf(new[] { "0", "1" }), "at most two conversions at once");
        Assert.That(d.Output(@"convert/\d+", "err"), Has.Some.Contains("empty.txt: empty, moved to failed/ after 3 attempts"));
        Assert.That(d.Log, Does.Match(@"repeat:1: \d+ changed paths"), "the scans after the start came from the trigger");
        Assert.That(d.HasLine(@"repeat:1: .*every"), Is.False, "no polling repeat");
    }
}
