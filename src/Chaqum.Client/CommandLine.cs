using System.Globalization;

namespace Chaqum.Client;

/// <summary>Builds one command's words: the verb, its options, <c>--</c> and the operands.
/// Numbers are written the way the daemon reads them: invariant culture, no exponent.</summary>
internal sealed class CommandLine
{
    private readonly List<string> _words;

    public CommandLine(string verb) => _words = [verb];

    public IReadOnlyList<string> Words => _words;

    public void Flag(char letter, bool on)
    {
        if (on) _words.Add("-" + letter);
    }

    public void Option(char letter, string? value)
    {
        if (value is null) return;
        _words.Add("-" + letter);
        _words.Add(value);
    }

    /// <summary>A long option (<c>--settle 0.5</c>).</summary>
    public void Long(string name, string value)
    {
        _words.Add("--" + name);
        _words.Add(value);
    }

    public void Option(char letter, int? value) =>
        Option(letter, value?.ToString(CultureInfo.InvariantCulture));

    public void Option(char letter, double? value) =>
        Option(letter, value is { } v ? Number(v) : null);

    public void Option(char letter, TimeSpan? value) =>
        Option(letter, value is { } v ? Seconds(v) : null);

    /// <summary>Ends the options and adds the operands.</summary>
    public CommandLine Operands(IEnumerable<string> operands)
    {
        _words.Add("--");
        _words.AddRange(operands);
        return this;
    }

    /// <summary>Seconds as the daemon reads them (<c>0.2</c>, <c>600</c>), to the tick.</summary>
    public static string Seconds(TimeSpan span) => Number(span.TotalSeconds);

    // "R" or the default format would give "1E-07" for small values, which the daemon
    // refuses; seven decimals is a TimeSpan tick.
    public static string Number(double value) => value.ToString("0.#######", CultureInfo.InvariantCulture);

    public override string ToString() => ShellWords.Join(_words);
}
