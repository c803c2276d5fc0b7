using System.Text;

namespace Chaqum.Words;

/// <summary>
/// The line codec of the chaqum protocol: words split and quoted the way POSIX sh does,
/// without any expansion. One assembly of its own, referenced by the daemon, chaqumctl
/// and the .NET client, so that they agree and the daemon needs nothing of the client.
///
/// Splitting: blanks (space, tab) separate words; '...' is literal; "..." allows \" \\ \$
/// \` and backslash-newline; a backslash outside quotes escapes the next character. In
/// addition $'...' (POSIX.1-2024) allows C-style escapes such as \n, \t, \xHH and \0NNN:
/// a command is one line, so this is how a word containing a newline travels.
///
/// Quoting: a word made only of safe characters goes bare; a word with a control
/// character uses $'...'; anything else is single-quoted, with ' written as '\''. This is
/// what Python's shlex.join produces for words without control characters.
/// </summary>
public static class ShellWords
{
    /// <summary>Splits a line (without its LF) into words.</summary>
    /// <exception cref="FormatException">Unbalanced quotes or a bad $'...' escape.</exception>
    public static List<string> Split(ReadOnlySpan<char> line)
    {
        var words = new List<string>();
        if (!TrySplit(line, words, out var error)) throw new FormatException(error);
        return words;
    }

    /// <summary>Splits a line into words; on failure returns false with a reason.</summary>
    public static bool TrySplit(ReadOnlySpan<char> line, List<string> words, out string? error)
    {
        var word = new StringBuilder();
        bool inWord = false;
        int i = 0;
        error = null;
        while (i < line.Length)
        {
            char c = line[i];
            switch (c)
            {
                case ' ':
                case '\t':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }
                    i++;
                    break;

                case '\'':
                {
                    int end = line[(i + 1)..].IndexOf('\'');
                    if (end < 0) { error = "unterminated single quote"; return false; }
                    word.Append(line.Slice(i + 1, end));
                    inWord = true;
                    i += end + 2;
                    break;
                }

                case '"':
                {
                    i++;
                    inWord = true;
                    bool closed = false;
                    while (i < line.Length)
                    {
                        char d = line[i];
                        if (d == '"') { closed = true; i++; break; }
                        if (d == '\\' && i + 1 < line.Length)
                        {
                            char e = line[i + 1];
                            if (e is '"' or '\\' or '$' or '`') { word.Append(e); i += 2; continue; }
                            if (e == '\n') { i += 2; continue; }
                        }
                        word.Append(d);
                        i++;
                    }
                    if (!closed) { error = "unterminated double quote"; return false; }
                    break;
                }

                case '\\':
                    if (i + 1 >= line.Length) { error = "backslash at end of line"; return false; }
                    if (line[i + 1] != '\n') word.Append(line[i + 1]);
                    inWord = true;
                    i += 2;
                    break;

                case '$' when i + 1 < line.Length && line[i + 1] == '\'':
                    inWord = true;
                    if (!DollarSingle(line, ref i, word, out error)) return false;
                    break;

                default:
                    word.Append(c);
                    inWord = true;
                    i++;
                    break;
            }
        }
        if (inWord) words.Add(word.ToString());
        return true;
    }

    /// <summary>Decodes $'...' starting at line[i] == '$'; leaves i after the closing quote.</summary>
    private static bool DollarSingle(ReadOnlySpan<char> line, ref int i, StringBuilder word, out string? error)
    {
        error = null;
        i += 2;
        // Escapes may produce raw bytes (\xHH, \NNN) that form UTF-8 together.
        var bytes = new List<byte>();
        void FlushBytes(StringBuilder w)
        {
            if (bytes.Count == 0) return;
            w.Append(Encoding.UTF8.GetString(bytes.ToArray()));
            bytes.Clear();
        }
        while (i < line.Length)
        {
            char c = line[i];
            if (c == '\'')
            {
                i++;
                if (!ValidUtf8(bytes)) { error = "$'...' escapes do not form valid UTF-8"; return false; }
                FlushBytes(word);
                return true;
            }
            if (c != '\\')
            {
                if (!ValidUtf8(bytes)) { error = "$'...' escapes do not form valid UTF-8"; return false; }
                FlushBytes(word);
                word.Append(c);
                i++;
                continue;
            }
            if (i + 1 >= line.Length) break;
            char e = line[i + 1];
            i += 2;
            switch (e)
            {
                case 'n': bytes.Add((byte)'\n'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case 'r': bytes.Add((byte)'\r'); break;
                case 'a': bytes.Add(7); break;
                case 'b': bytes.Add(8); break;
                case 'e': case 'E': bytes.Add(27); break;
                case 'f': bytes.Add(12); break;
                case 'v': bytes.Add(11); break;
                case '\\': bytes.Add((byte)'\\'); break;
                case '\'': bytes.Add((byte)'\''); break;
                case '"': bytes.Add((byte)'"'); break;
                case '?': bytes.Add((byte)'?'); break;
                case 'x':
                {
                    int value = 0, digits = 0;
                    while (digits < 2 && i < line.Length && Uri.IsHexDigit(line[i]))
                    {
                        value = value * 16 + Convert.ToInt32(line[i].ToString(), 16);
                        digits++;
                        i++;
                    }
                    if (digits == 0) { error = "\\x without hex digits in $'...'"; return false; }
                    bytes.Add((byte)value);
                    break;
                }
                case >= '0' and <= '7':
                {
                    int value = e - '0', digits = 1;
                    while (digits < 3 && i < line.Length && line[i] is >= '0' and <= '7')
                    {
                        value = value * 8 + (line[i] - '0');
                        digits++;
                        i++;
                    }
                    bytes.Add((byte)(value & 0xff));
                    break;
                }
                default:
                    error = $"unknown escape \\{e} in $'...'";
                    return false;
            }
        }
        error = "unterminated $'...' quote";
        return false;
    }

    private static bool ValidUtf8(List<byte> bytes) =>
        bytes.Count == 0 || System.Text.Unicode.Utf8.IsValid(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));

    /// <summary>Quotes one word so that Split gives it back unchanged.</summary>
    public static string Quote(string word)
    {
        if (word.Length == 0) return "''";
        bool safe = true, control = false;
        foreach (char c in word)
        {
            if (!IsSafe(c)) safe = false;
            if (c < 0x20 || c == 0x7f) control = true;
        }
        if (safe) return word;
        if (control) return DollarQuote(word);
        return "'" + word.Replace("'", "'\"'\"'") + "'";
    }

    /// <summary>Quotes and joins words into one command line (without the LF).</summary>
    public static string Join(IEnumerable<string> words)
    {
        var sb = new StringBuilder();
        foreach (var w in words)
        {
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(Quote(w));
        }
        return sb.ToString();
    }

    /// <summary>True for characters that never need quoting (the set Python's shlex uses).</summary>
    public static bool IsSafe(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '@' or '%' or '+' or '=' or ':' or ',' or '.' or '/' or '_' or '-';

    private static string DollarQuote(string word)
    {
        var sb = new StringBuilder("$'");
        foreach (char c in word)
        {
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                case '\\': sb.Append("\\\\"); break;
                case '\'': sb.Append("\\'"); break;
                default:
                    if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2"));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('\'').ToString();
    }
}
