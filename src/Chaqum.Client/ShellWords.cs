namespace Chaqum.Client;

/// <summary>
/// The protocol's line codec, for jobs that speak the protocol themselves: words split and
/// quoted the way POSIX sh does, without any expansion. The codec lives in the Chaqum.Words
/// assembly (shared with the daemon); this is its face in the client's own namespace, so
/// client code needs no second <c>using</c>. See <see cref="Words.ShellWords"/> for the rules.
/// </summary>
public static class ShellWords
{
    /// <summary>Splits a line (without its LF) into words.</summary>
    /// <exception cref="FormatException">Unbalanced quotes or a bad $'...' escape.</exception>
    public static List<string> Split(ReadOnlySpan<char> line) => Words.ShellWords.Split(line);

    /// <summary>Splits a line into words; on failure returns false with a reason.</summary>
    public static bool TrySplit(ReadOnlySpan<char> line, List<string> words, out string? error) =>
        Words.ShellWords.TrySplit(line, words, out error);

    /// <summary>Quotes one word so that Split gives it back unchanged.</summary>
    public static string Quote(string word) => Words.ShellWords.Quote(word);

    /// <summary>Quotes and joins words into one command line (without the LF).</summary>
    public static string Join(IEnumerable<string> words) => Words.ShellWords.Join(words);

    /// <summary>True for characters that never need quoting (the set Python's shlex uses).</summary>
    public static bool IsSafe(char c) => Words.ShellWords.IsSafe(c);
}
