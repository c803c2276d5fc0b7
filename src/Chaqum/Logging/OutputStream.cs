using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Logging;

public enum OutputStream { Stdout, Stderr }

/// <summary>Where job output lines go (the daemon log, and per-job files).</summary>
public interface IJobOutput
{
    void Line(Job job, OutputStream stream, LogLevel level, string text);

    /// <summary>Several lines read at once. Outputs that can copy bytes in bulk override
    /// this; the others get one Line call each.</summary>
    void Lines(Job job, OutputStream stream, OutputLines lines)
    {
        for (int i = 0; i < lines.Count; i++) Line(job, stream, lines[i].Level, lines.Text(i));
    }

    /// <summary>The stream has ended (every writer closed it).</summary>
    void Closed(Job job, OutputStream stream) { }
}

/// <summary>The level-prefix rule: a line starting with C, E, W, I or D and the ASCII unit
/// separator (0x1F) is logged at critical, error, warning, info or debug with the prefix
/// removed; other lines are info on stdout and warning on stderr.</summary>
public static class LevelPrefix
{
    public const byte UnitSeparator = 0x1f;

    public static LogLevel Parse(ref ReadOnlySpan<byte> line, OutputStream stream)
    {
        if (line.Length >= 2 && line[1] == UnitSeparator)
        {
            LogLevel? level = line[0] switch
            {
                (byte)'C' => LogLevel.Critical,
                (byte)'E' => LogLevel.Error,
                (byte)'W' => LogLevel.Warning,
                (byte)'I' => LogLevel.Information,
                (byte)'D' => LogLevel.Debug,
                _ => null,
            };
            if (level is { } l)
            {
                line = line[2..];
                return l;
            }
        }
        return OutputLines.DefaultLevel(stream);
    }
}
