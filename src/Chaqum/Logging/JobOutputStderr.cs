using System.Globalization;
using System.Text;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Serilog.Events;

namespace Chaqum.Logging;

/// <summary>
/// Job output into the daemon log on stderr, byte for byte as the Serilog console sink
/// writes it with <see cref="DaemonLog.ConsoleTemplate"/> (or the journal's
/// "&lt;N&gt;" form), but without a string, a log event and a write(2) per line: each
/// batch of lines is formatted into one buffer and written at once. A job printing
/// short lines as fast as it can is held up by the daemon's per-line cost, and through
/// Serilog that was about 100 times what copying the bytes costs.
///
/// Serilog writes the daemon's own events to Console.Error, which is the
/// <see cref="StderrBuffer"/> these lines are copied into: one buffer, one order.
/// </summary>
public sealed class JobOutputStderr : IJobOutput
{
    public enum Style { Console, Journal }

    private readonly Style _style;
    private readonly bool[] _enabled = new bool[7];   // by LogLevel
    private readonly StderrBuffer _stderr;

    // The prefix of each level ("HH:mm:ss.fff INF JOB[out] " or "<6>JOB[out] ") for the
    // time (to the millisecond), job and stream they were made for.
    private readonly byte[][] _prefixes = new byte[7][];
    private long _prefixMillis = -1;
    private Job? _prefixJob;
    private OutputStream _prefixStream;
    private int _prefixLength;

    public JobOutputStderr(Style style, LogEventLevel minimum, StderrBuffer stderr)
    {
        _style = style;
        _stderr = stderr;
        for (int level = 0; level < _enabled.Length; level++)
            _enabled[level] = (LogLevel)level != LogLevel.None && DaemonLog.ToSerilog((LogLevel)level) >= minimum;
    }

    /// <summary>The job output for the daemon log (as configured by DaemonLog.Create):
    /// this class when stderr is a file, a pipe or the journal, Serilog itself for a
    /// terminal (which gets its colours). With --log-file, every line also goes to the
    /// file's sink, through Serilog: slower, but that file has its own format. Either
    /// way Console.Error becomes the <see cref="StderrBuffer"/>.</summary>
    public static IJobOutput For(Serilog.ILogger log, bool journal, int verbosity, Serilog.Core.ILogEventSink? file)
    {
        bool terminal = !Console.IsErrorRedirected;
        var stderr = StderrBuffer.Install();
        if (terminal) return new JobOutputLog(log);
        var minimum = DaemonLog.LevelFor(verbosity);
        var fast = new JobOutputStderr(journal ? Style.Journal : Style.Console, minimum, stderr);
        if (file is null) return fast;
        var fileOnly = new Serilog.LoggerConfiguration().MinimumLevel.Is(minimum).WriteTo.Sink(file).CreateLogger();
        return new JobOutputs(fast, new JobOutputLog(fileOnly));
    }

    public void Line(Job job, OutputStream stream, LogLevel level, string text)
    {
        if (!_enabled[(int)level]) return;
        var bytes = Encoding.UTF8.GetBytes(text);
        lock (_stderr.Gate) Append(Prefixes(job, stream, DateTimeOffset.Now)[(int)level], bytes);
        _stderr.Written();
    }

    public void Lines(Job job, OutputStream stream, OutputLines lines)
    {
        var prefixes = Prefixes(job, stream, lines.Time);
        lock (_stderr.Gate)
        {
            int i = 0;
            while (i < lines.Count)
            {
                if (!lines[i].Clean)
                {
                    // Escaped text is longer than its bytes: a line on its own.
                    if (_enabled[(int)lines[i].Level])
                        Append(prefixes[(int)lines[i].Level], Encoding.UTF8.GetBytes(lines.Text(i)));
                    i++;
                    continue;
                }
                // A run of lines as they are: room for all of them, then one copy of
                // the prefix and one of the text per line.
                int end = i, room = 0;
                for (; end < lines.Count && lines[end].Clean; end++) room += _prefixLength + lines[end].Length + 1;
                var into = _stderr.Reserve(room);
                var data = lines.Data;
                int n = 0;
                for (; i < end; i++)
                {
                    var line = lines[i];
                    if (!_enabled[(int)line.Level]) continue;
                    var prefix = prefixes[(int)line.Level];
                    prefix.CopyTo(into[n..]);
                    n += prefix.Length;
                    data.AsSpan(line.Start, line.Length).CopyTo(into[n..]);
                    n += line.Length;
                    into[n++] = (byte)'\n';
                }
                _stderr.Commit(n);
            }
        }
        _stderr.Written();
    }

    /// <summary>One line; the caller holds the buffer's gate.</summary>
    private void Append(byte[] prefix, ReadOnlySpan<byte> text)
    {
        var into = _stderr.Reserve(prefix.Length + text.Length + 1);
        prefix.CopyTo(into);
        text.CopyTo(into[prefix.Length..]);
        into[prefix.Length + text.Length] = (byte)'\n';
        _stderr.Commit(prefix.Length + text.Length + 1);
    }

    private byte[][] Prefixes(Job job, OutputStream stream, DateTimeOffset time)
    {
        long millis = time.Ticks / TimeSpan.TicksPerMillisecond;
        if (millis == _prefixMillis && ReferenceEquals(job, _prefixJob) && stream == _prefixStream) return _prefixes;
        var label = Encoding.UTF8.GetBytes(OneLineProperties.OneLine(job.Id) + (stream == OutputStream.Stdout ? "[out] " : "[err] "));
        Span<byte> stamp = stackalloc byte[16];
        time.TryFormat(stamp, out int stampLength, "HH:mm:ss.fff ", CultureInfo.InvariantCulture);
        for (int level = 0; level < _prefixes.Length; level++)
        {
            var head = _style == Style.Journal
                ? new[] { (byte)'<', Priority((LogLevel)level), (byte)'>' }
                : [.. stamp[..stampLength], .. Moniker((LogLevel)level), (byte)' '];
            _prefixes[level] = [.. head, .. label];
        }
        _prefixLength = _prefixes.Max(p => p.Length);
        _prefixMillis = millis;
        _prefixJob = job;
        _prefixStream = stream;
        return _prefixes;
    }

    /// <summary>Serilog's {Level:u3}, which is also the output files' word.</summary>
    private static byte[] Moniker(LogLevel level) => Monikers[(int)level];

    // Encoded once: the prefixes are rebuilt every millisecond of a flood.
    private static readonly byte[][] Monikers = Enumerable.Range(0, (int)LogLevel.None + 1)
        .Select(level => System.Text.Encoding.ASCII.GetBytes(OutputLine.LevelWord((LogLevel)level))).ToArray();

    /// <summary>The syslog priority digit of a level, as the journal template gives it.</summary>
    private static byte Priority(LogLevel level) => level switch
    {
        LogLevel.Critical => (byte)'2',
        LogLevel.Error => (byte)'3',
        LogLevel.Warning => (byte)'4',
        LogLevel.Information => (byte)'6',
        _ => (byte)'7',
    };
}
