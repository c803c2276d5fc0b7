using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Microsoft.Extensions.Logging;

namespace Chaqum.Logging;

/// <summary>One line of a batch: where it is in the batch's bytes, its level (the prefix
/// already removed), and whether its bytes can be shown as they are (valid UTF-8, no
/// control characters other than tab).</summary>
public readonly record struct LineSpan(int Start, int Length, LogLevel Level, bool Clean);

/// <summary>
/// The complete lines found in one read of a job's pipe, as spans of the bytes read, so
/// that an output can copy them in bulk instead of making a string and a log event of
/// each one (a job printing short lines as fast as it can makes millions a second).
/// Owned by the loop thread and reused: valid only during the call it is passed to.
/// </summary>
public sealed class OutputLines
{
    /// <summary>Lines per batch at most: a flood of empty lines must not grow the arrays
    /// without bound.</summary>
    public const int MaxCount = 8192;

    private LineSpan[] _lines = new LineSpan[256];

    public byte[] Data { get; private set; } = Array.Empty<byte>();
    public int Count { get; private set; }
    /// <summary>When the lines were read (one time for the batch).</summary>
    public DateTimeOffset Time { get; private set; }

    public LineSpan this[int i] => _lines[i];

    public ReadOnlySpan<byte> Bytes(int i) => Data.AsSpan(_lines[i].Start, _lines[i].Length);

    /// <summary>The line as text, invalid bytes and control characters escaped.</summary>
    public string Text(int i) => _lines[i].Clean ? Encoding.UTF8.GetString(Bytes(i)) : OutputText.Decode(Bytes(i));

    public bool IsFull => Count == MaxCount;

    internal void Start(byte[] data, DateTimeOffset time)
    {
        Data = data;
        Time = time;
        Count = 0;
    }

    /// <summary>Adds a line (without its LF) that lies in Data: a trailing CR is dropped and
    /// the level prefix parsed. A line longer than maxLength is added in pieces.</summary>
    internal void Add(int start, int length, OutputStream stream, int maxLength, bool knownClean)
    {
        // A piece may end inside a UTF-8 sequence: check each one on its own.
        if (length > maxLength) knownClean = false;
        while (length > maxLength)
        {
            Append(start, maxLength, stream, knownClean);
            start += maxLength;
            length -= maxLength;
        }
        Append(start, length, stream, knownClean);
    }

    private void Append(int start, int length, OutputStream stream, bool knownClean)
    {
        if (Count == _lines.Length) Array.Resize(ref _lines, Math.Min(_lines.Length * 2, MaxCount));
        if (knownClean)
        {
            // No control character anywhere: no CR, no level prefix (0x1f) to look for.
            _lines[Count++] = new LineSpan(start, length, DefaultLevel(stream), true);
            return;
        }
        ReadOnlySpan<byte> line = Data.AsSpan(start, length);
        if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
        int before = line.Length;
        var level = LevelPrefix.Parse(ref line, stream);
        int skipped = before - line.Length;
        _lines[Count++] = new LineSpan(start + skipped, line.Length, level, IsClean(line));
    }

    public static LogLevel DefaultLevel(OutputStream stream) =>
        stream == OutputStream.Stdout ? LogLevel.Information : LogLevel.Warning;

    // Control characters that a line must be free of to be copied as it is (tab allowed).
    private static readonly SearchValues<byte> Controls = SearchValues.Create(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"u8);

    // The same, but allowing LF: for checking a whole run of lines at once.
    private static readonly SearchValues<byte> ControlsButLf = SearchValues.Create(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"u8);

    public static bool IsClean(ReadOnlySpan<byte> line) => !line.ContainsAny(Controls) && Utf8.IsValid(line);

    /// <summary>True when every line of a run of complete lines is clean and has neither a
    /// CR nor a level prefix: the usual case, checked in two vectorised passes.</summary>
    public static bool AllClean(ReadOnlySpan<byte> lines) => !lines.ContainsAny(ControlsButLf) && Utf8.IsValid(lines);
}
