using Chaqum.Protocol;

namespace Chaqum.Tests.Unit;

[TestFixture, CancelAfter(30_000)]
public class OptionParserTests
{
    private static ParsedOptions Parse(string spec, params string[] words)
    {
        var parsed = OptionParser.Parse(words, 0, spec, out var error);
        Assert.That(error, Is.Null);
        return parsed!;
    }

    [Test]
    public void Separate_attached_and_clustered_values()
    {
        var o = Parse("Fg:m:", "-F", "-g", "grp", "-m2", "--", "script", "-x");
        Assert.That(o.Has('F'), Is.True);
        Assert.That(o.Get('g'), Is.EqualTo("grp"));
        Assert.That(o.Get('m'), Is.EqualTo("2"));
        Assert.That(o.Operands, Is.EqualTo(new[] { "script", "-x" }));

        var clustered = Parse("Fog:", "-Fog", "name", "s");
        Assert.That(clustered.Has('F') && clustered.Has('o'), Is.True);
        Assert.That(clustered.Get('g'), Is.EqualTo("name"));
        Assert.That(clustered.Operands, Is.EqualTo(new[] { "s" }));
    }

    [Test]
    public void Operands_start_at_the_first_non_option_or_after_double_dash()
    {
        Assert.That(Parse("g:", "script", "-g", "x").Operands, Is.EqualTo(new[] { "script", "-g", "x" }));
        Assert.That(Parse("g:", "--", "--").Operands, Is.EqualTo(new[] { "--" }));
        Assert.That(Parse("g:", "-").Operands, Is.EqualTo(new[] { "-" }));
        Assert.That(Parse("g:").Operands, Is.Empty);
    }

    [Test]
    public void Repeatable_options_keep_every_value_and_last_wins_for_get()
    {
        var o = Parse("a:t:", "-a", "x/1", "-ay/2", "-t", "1", "-t", "2");
        Assert.That(o.All('a'), Is.EqualTo(new[] { "x/1", "y/2" }));
        Assert.That(o.Get('t'), Is.EqualTo("2"));
    }

    [TestCase("g:", new[] { "-x" }, "unknown option -x")]
    [TestCase("g:", new[] { "-g" }, "option -g needs a value")]
    [TestCase("F", new[] { "-Fz" }, "unknown option -z")]
    [TestCase("g:", new[] { "-:" }, "unknown option -:")]
    public void Errors_name_the_option(string spec, string[] words, string message)
    {
        Assert.That(OptionParser.Parse(words, 0, spec, out var error), Is.Null);
        Assert.That(error, Is.EqualTo(message));
    }

    [Test]
    public void Long_options_take_a_value_separately_or_after_an_equals_sign()
    {
        var o = OptionParser.Parse(new[] { "-w", "in", "--settle", "2", "-o", "--", "scan" }, 0, "w:o", out var error, ["settle:"]);
        Assert.That(error, Is.Null);
        Assert.That(o!.GetLong("settle"), Is.EqualTo("2"));
        Assert.That(o.Get('w'), Is.EqualTo("in"));
        Assert.That(o.Has('o'), Is.True);
        Assert.That(o.Operands, Is.EqualTo(new[] { "scan" }));
        Assert.That(OptionParser.Parse(new[] { "--settle=0.5", "x" }, 0, "", out _, ["settle:"])!.GetLong("settle"), Is.EqualTo("0.5"));
    }

    [Test]
    public void Unknown_or_incomplete_long_options_are_refused()
    {
        Assert.That(OptionParser.Parse(new[] { "--settle", "1" }, 0, "w:", out var error), Is.Null);
        Assert.That(error, Is.EqualTo("unknown option --settle"));
        Assert.That(OptionParser.Parse(new[] { "--settle" }, 0, "", out error, ["settle:"]), Is.Null);
        Assert.That(error, Is.EqualTo("option --settle needs a value"));
        Assert.That(OptionParser.Parse(new[] { "--all=1" }, 0, "", out error, ["all"]), Is.Null);
        Assert.That(error, Is.EqualTo("option --all takes no value"));
        Assert.That(OptionParser.Parse(new[] { "--", "--settle" }, 0, "", out error, ["settle:"])!.Operands, Is.EqualTo(new[] { "--settle" }));
    }
}
