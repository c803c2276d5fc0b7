using System.Text;
using System.Text.Unicode;

namespace Chaqum.Logging;

/// <summary>Turns a line of job output into text without losing anything: valid UTF-8 is
/// decoded, every invalid byte is shown as \xNN, control characters other than tab as
/// \xNN too (so one event never spans lines or moves the terminal).</summary>
public static class OutputText
{
    public static string Decode(ReadOnlySpan<byte> line)
    {
        if (Utf8.IsValid(line) && !HasControl(line)) return Encoding.UTF8.GetString(line);
        var sb = new StringBuilder(line.Length + 16);
        while (!line.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(line, out var rune, out int consumed);
            if (status == System.Buffers.OperationStatus.Done)
            {
                if ((rune.Value < 0x20 && rune.Value != '\t') || rune.Value == 0x7f) sb.Append($"\\x{rune.Value:x2}");
                else sb.Append(rune.ToString());
            }
            else
            {
                for (int i = 0; i < Math.Max(consumed, 1); i++) sb.Append($"\\x{line[i]:x2}");
                consumed = Math.Max(consumed, 1);
            }
            line = line[consumed..];
        }
        return sb.ToString();
    }

    private static bool HasControl(ReadOnlySpan<byte> line)
    {
        foreach (byte b in line)
            if ((b < 0x20 && b != (byte)'\t') || b == 0x7f) return true;
        return false;
    }
}
