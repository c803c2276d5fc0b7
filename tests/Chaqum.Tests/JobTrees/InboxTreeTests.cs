using System.Text.RegularExpressions;

namespace Chaqum.Tests.JobTrees;

/// <summary>jobtrees/inbox: a repeat scans an inbox and feeds a capped, barrier-gated
/// convert group; the tree ends by itself once the inbox stays empty.</summary>
[TestFixture, CancelAfter(120_000)]
public class InboxTreeTests
{
    [Test]
    public void Every_file_is_converted_once_and_the_tree_ends_when_the_inbox_stays_empty()
    {
        using var scratch = new TempTree();
        var dir = Path.Combine(scratch.Root, "work");
        var inbox = Path.Combine(dir, "inbox");
        Directory.CreateDirectory(inbox);
        var names = new[] { "a.txt", "b.txt", "c.txt", "with space.txt", "it's.txt" };
        foreach (var name in names) File.WriteAllText(Path.Combine(inbox, name), $"hello from {name}\n");
        File.WriteAllText(Path.Combine(inbox, "empty.txt"), "");

        // Scans every 0.2 s (many while conversions are queued: keys must keep them
        // single), no CPU barrier (a busy test machine must not stall it), the memory
        // barrier stays.
        using var d = ExampleTrees.Run("inbox", scratch, "-i", "0.2", "-n", "3", "-c", "0", dir);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(90)), Is.EqualTo(0), d.Log);

        foreach (var name in names)
            Assert.That(File.ReadAllText(Path.Combine(dir, "outbox", name)), Is.EqualTo($"HELLO FROM {name.ToUpperInvariant()}\n"));
        Assert.That(Directory.GetFiles(inbox), Is.Empty, "the inbox is emptied");
        Assert.That(File.Exists(Path.Combine(dir, "failed", "empty.txt")), Is.True, "a file that cannot be converted ends in failed/");

        var converted = d.Output(@"convert/\d+", "err").Where(l => l.Contains(" converted (")).ToList();
        foreach (var name in names)
            Assert.That(converted.Count(l => l.StartsWith(name + " converted")), Is.EqualTo(1), $"{name} converted once. Log:\n{d.Log}");
        var slots = converted.Select(l => Regex.Match(l, @"slot (\d+)").Groups[1].Value).Distinct();
        Assert.That(slots, Is.SubsetOf(new[] { "0", "1" }), "at most two conversions at once");

        Assert.That(d.Output(@"convert/\d+", "err"), Has.Some.Contains("empty.txt: empty, moved to failed/ after 3 attempts"));
        Assert.That(d.Output(@"scan/\d+", "err"), Has.Some.Match(@"^inbox empty for 3 scans: scanner stopped$"));
    }

    [Test]
    public void An_empty_inbox_stops_after_the_idle_scans()
    {
        using var scratch = new TempTree();
        var dir = Path.Combine(scratch.Root, "work");
        Directory.CreateDirectory(Path.Combine(dir, "inbox"));
        using var d = ExampleTrees.Run("inbox", scratch, "-i", "0.1", "-n", "2", dir);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        Assert.That(d.Output(@"scan/\d+", "err"), Is.EqualTo(new[] { "inbox empty for 2 scans: scanner stopped" }));
        Assert.That(d.HasLine(@"convert/\d+"), Is.False, "nothing to convert");
    }
}
