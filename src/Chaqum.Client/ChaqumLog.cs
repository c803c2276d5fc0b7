using System.Text;

namespace Chaqum.Client;

/// <summary>
/// Logging at the daemon's five levels. Each line goes to stderr prefixed with the level
/// letter (C E W I D) and the ASCII unit separator; the daemon logs it at that level with
/// the prefix removed. A message with several lines is sent as several prefixed lines, so
/// each keeps its level. Needs no connection: it works wherever stderr reaches the daemon.
/// </summary>
public static class ChaqumLog
{
    private const char UnitSeparator = '\x1f';

    public static void Critical(string message) => Write('C', message);
    public static void Error(string message) => Write('E', message);
    public static void Warning(string message) => Write('W', message);
    public static void Info(string message) => Write('I', message);
    public static void Debug(string message) => Write('D', message);

    private static void Write(char level, string message)
    {
        // One Write call: Console.Error is synchronised, so lines from concurrent callers
        // do not interleave.
        Console.Error.Write(Format(level, message));
        Console.Error.Flush();
    }

    /// <summary>The text written for a message: one prefixed line per line.</summary>
    internal static string Format(char level, string message)
    {
        var text = new StringBuilder();
        foreach (var line in message.ReplaceLineEndings("\n").Split('\n'))
            text.Append(level).Append(UnitSeparator).Append(line).Append('\n');
        return text.ToString();
    }
}
