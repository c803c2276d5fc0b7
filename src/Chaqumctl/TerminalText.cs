using System.Globalization;
using System.Text;

namespace Chaqumctl;

/// <summary>
/// Text from the daemon as it may reach a terminal. Group names, keys, arguments and
/// output are chosen by jobs, and a job is not trusted with the operator's terminal: an
/// ESC in a group name could move the cursor, rewrite what ps showed, or set the window
/// title. Every control character is shown escaped (\x1b); tab stays, as in the daemon's
/// log. So are the C1 controls (U+0080..U+009F, which some terminals obey as ESC
/// sequences) and the bidirectional overrides that can make a line read backwards.
/// JSON output is left exact: JSON escapes control characters itself.
/// </summary>
public static class TerminalText
{
    public static string Escape(string text)
    {
        if (!NeedsEscape(text)) return text;
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (IsControl(c)) sb.Append(c < 0x100 ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}");
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(string text)
    {
        foreach (var c in text)
            if (IsControl(c)) return true;
        return false;
    }

    private static bool IsControl(char c) =>
        (c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f) ||
        (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069');
}
