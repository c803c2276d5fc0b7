namespace Chaqum.Protocol;

/// <summary>Options of one command, parsed getopt style.</summary>
public sealed class ParsedOptions
{
    private readonly Dictionary<char, List<string>> _values = new();
    private Dictionary<string, string>? _long;

    public List<string> Operands { get; } = new();

    internal void Add(char option, string value)
    {
        if (!_values.TryGetValue(option, out var list)) _values[option] = list = new List<string>(1);
        list.Add(value);
    }

    public bool Has(char option) => _values.ContainsKey(option);

    internal void AddLong(string name, string value) => (_long ??= new(StringComparer.Ordinal))[name] = value;

    /// <summary>The last value of a long option (--settle 5), or null if not given.</summary>
    public string? GetLong(string name) => _long?.GetValueOrDefault(name);

    /// <summary>The last value given for the option (later ones override), or null.</summary>
    public string? Get(char option) => _values.TryGetValue(option, out var list) ? list[^1] : null;

    /// <summary>Every value of a repeatable option, in order.</summary>
    public IReadOnlyList<string> All(char option) =>
        _values.TryGetValue(option, out var list) ? list : Array.Empty<string>();
}

/// <summary>
/// getopt(3)-style parsing: a spec like "Fg:m:" lists the option letters, ':' marking
/// those that take a value. Options come before operands; "-gNAME", "-g NAME" and
/// clustered flags ("-Fo") work; "--" ends the options; the first word that does not start
/// with '-' (or is just "-") starts the operands. A command may also take long options
/// ("--settle 5", "--settle=5"), listed by name with ':' marking those that take a value.
/// </summary>
public static class OptionParser
{
    /// <summary>Parses words (without the command name); null and a reason on failure.</summary>
    public static ParsedOptions? Parse(IReadOnlyList<string> words, int start, string spec, out string? error,
        IReadOnlyList<string>? longSpec = null)
    {
        var parsed = new ParsedOptions();
        error = null;
        int i = start;
        for (; i < words.Count; i++)
        {
            string word = words[i];
            if (word == "--") { i++; break; }
            if (word.Length < 2 || word[0] != '-') break;
            if (word.StartsWith("--", StringComparison.Ordinal))
            {
                if (!ParseLong(words, ref i, longSpec, parsed, out error)) return null;
                continue;
            }
            for (int j = 1; j < word.Length; j++)
            {
                char letter = word[j];
                int at = spec.IndexOf(letter);
                if (at < 0 || letter == ':')
                {
                    error = $"unknown option -{letter}";
                    return null;
                }
                bool takesValue = at + 1 < spec.Length && spec[at + 1] == ':';
                if (!takesValue)
                {
                    parsed.Add(letter, "");
                    continue;
                }
                if (j + 1 < word.Length)
                {
                    parsed.Add(letter, word[(j + 1)..]);
                }
                else if (i + 1 < words.Count)
                {
                    parsed.Add(letter, words[++i]);
                }
                else
                {
                    error = $"option -{letter} needs a value";
                    return null;
                }
                break;
            }
        }
        for (; i < words.Count; i++) parsed.Operands.Add(words[i]);
        return parsed;
    }

    private static bool ParseLong(IReadOnlyList<string> words, ref int i, IReadOnlyList<string>? longSpec, ParsedOptions parsed, out string? error)
    {
        error = null;
        string word = words[i];
        int eq = word.IndexOf('=');
        string name = eq < 0 ? word[2..] : word[2..eq];
        bool known = false, takesValue = false;
        foreach (var entry in longSpec ?? Array.Empty<string>())
        {
            if (entry.TrimEnd(':') != name) continue;
            known = true;
            takesValue = entry.EndsWith(':');
        }
        if (!known)
        {
            error = $"unknown option --{name}";
            return false;
        }
        if (!takesValue)
        {
            if (eq >= 0) { error = $"option --{name} takes no value"; return false; }
            parsed.AddLong(name, "");
            return true;
        }
        if (eq >= 0) parsed.AddLong(name, word[(eq + 1)..]);
        else if (i + 1 < words.Count) parsed.AddLong(name, words[++i]);
        else { error = $"option --{name} needs a value"; return false; }
        return true;
    }
}
