using System.Buffers;
using Serilog.Core;
using Serilog.Events;

namespace Chaqum.Logging;

/// <summary>
/// Keeps every log event on one line. Messages quote what jobs sent (job ids, keys, group
/// names, message ids), and $'...' lets a word hold a newline: rendered raw, a job could
/// forge whole lines of the daemon's log ("12:00:00.000 ERR ..."). Control characters in
/// string properties are shown as '?', as in refused command lines. Job output lines are
/// already escaped (OutputText), so they pass untouched.
/// </summary>
public sealed class OneLineProperties : ILogEventEnricher
{
    private static readonly SearchValues<char> Breaks = SearchValues.Create(
        "\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f\u0085\u2028\u2029");

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? fixedUp = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            if (value is ScalarValue { Value: string text } && OneLine(text) is var line && !ReferenceEquals(line, text))
                (fixedUp ??= new()).Add(new LogEventProperty(name, new ScalarValue(line)));
        }
        if (fixedUp is null) return;
        foreach (var p in fixedUp) logEvent.AddOrUpdateProperty(p);
    }

    /// <summary>The text with control characters and line separators as '?'; the same
    /// string when it has none. Used wherever the daemon shows a job's words on one line:
    /// log properties, refusal reasons (Dispatcher), job labels (JobOutputStderr).</summary>
    public static string OneLine(string text)
    {
        if (text.AsSpan().IndexOfAny(Breaks) < 0) return text;
        return string.Create(text.Length, text, (span, t) =>
        {
            for (int i = 0; i < t.Length; i++) span[i] = Breaks.Contains(t[i]) ? '?' : t[i];
        });
    }
}
