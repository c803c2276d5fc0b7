using System.Globalization;
using System.Text;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Mono.Unix.Native;
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
/// Serilog writes the daemon's own events to Console.Error, a synchronized writer that
/// flushes each event; we write whole batches under the same lock, so that lines from
/// the two never interleave, and always before returning to the event loop, so that a
/// job's lines come before whatever the loop logs next ("exited").
/// </summary>
public sealed class JobOutputStderr : IJobOutput
{
    public enum Style { Console, Journal }

    private const int Fd = 2;
    private readonly Style _style;
    private readonly bool[] _enabled = new bool[7];   // by LogLevel
    private byte[] _buffer = new byte[64 * 1024];
    private int _length;

    // The formatted time of the last batch ("HH:mm:ss.fff "), kept while it is the same.
    private readonly byte[] _time = new byte[13];
    private long _timeMillis = -1;

    // "JOB[out] " for the last job and stream seen.
    private Job? _labelJob;
    private OutputStream _labelStream;
    private byte[] _label = Array.Empty<byte>();

    public JobOutputStderr(Style style, LogEventLevel minimum)
    {
        _style = style;
        for (int level = 0; level < _enabled.Length; level++)
            _enabled[level] = (LogLevel)level != LogLevel.None && DaemonLog.ToSerilog((LogLevel)level) >= minimum;
    }

    /// <summary>The job output for the daemon log (as configured by DaemonLog.Create):
    /// this class when stderr is a file, a pipe or the journal, Serilog itself for a
    /// terminal (which gets its colours). With --log-file, every line also goes to the
    /// file's sink, through Serilog: slower, but that file has its own format.</summary>
    public static IJobOutput For(Serilog.ILogger log, bool journal, int verbosity, Serilog.Core.ILogEventSink? file)
    {
        if (!Console.IsErrorRedirected) return new JobOutputLog(log);
        var minimum = DaemonLog.LevelFor(verbosity);
        var stderr = new JobOutputStderr(journal ? Style.Journal : Style.Console, minimum);
        if (file is null) return stderr;
        var fileOnly = new Serilog.LoggerConfiguration().MinimumLevel.Is(minimum).WriteTo.Sink(file).CreateLogger();
        return new JobOutputs(stderr, new JobOutputLog(fileOnly));
    }

    public void Line(Job job, OutputStream stream, LogLevel level, string text)
    {
        if (!_enabled[(int)level]) return;
        var bytes = Encoding.UTF8.GetBytes(text);
        Append(job, stream, level, bytes, DateTimeOffset.Now);
        Flush();
    }

    public void Lines(Job job, OutputStream stream, OutputLines lines)
    {
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (!_enabled[(int)line.Level]) continue;
            if (line.Clean) Append(job, stream, line.Level, lines.Bytes(i), lines.Time);
            else Append(job, stream, line.Level, Encoding.UTF8.GetBytes(lines.Text(i)), lines.Time);
        }
        Flush();
    }

    private void Append(Job job, OutputStream stream, LogLevel level, ReadOnlySpan<byte> text, DateTimeOffset time)
    {
        var label = Label(job, stream);
        int needed = 16 + label.Length + text.Length;
        if (_length + needed > _buffer.Length)
        {
            Flush();
            if (needed > _buffer.Length) Array.Resize(ref _buffer, needed);
        }
        var into = _buffer.AsSpan(_length);
        int n;
        if (_style == Style.Journal)
        {
            // "<6>": sd-daemon(3) priority; journald adds the time itself.
            into[0] = (byte)'<';
            into[1] = Priority(level);
            into[2] = (byte)'>';
            n = 3;
        }
        else
        {
            Time(time).CopyTo(into);
            n = _time.Length;
            Moniker(level).CopyTo(into[n..]);
            n += 3;
            into[n++] = (byte)' ';
        }
        label.CopyTo(into[n..]);
        n += label.Length;
        text.CopyTo(into[n..]);
        n += text.Length;
        into[n++] = (byte)'\n';
        _length += n;
    }

    private ReadOnlySpan<byte> Label(Job job, OutputStream stream)
    {
        if (!ReferenceEquals(job, _labelJob) || stream != _labelStream)
        {
            _label = Encoding.UTF8.GetBytes(job.Id + (stream == OutputStream.Stdout ? "[out] " : "[err] "));
            _labelJob = job;
            _labelStream = stream;
        }
        return _label;
    }

    private ReadOnlySpan<byte> Time(DateTimeOffset time)
    {
        long millis = time.Ticks / TimeSpan.TicksPerMillisecond;
        if (millis != _timeMillis)
        {
            _timeMillis = millis;
            time.TryFormat(_time, out _, "HH:mm:ss.fff ", CultureInfo.InvariantCulture);
        }
        return _time;
    }

    /// <summary>Serilog's {Level:u3}.</summary>
    private static ReadOnlySpan<byte> Moniker(LogLevel level) => level switch
    {
        LogLevel.Critical => "FTL"u8,
        LogLevel.Error => "ERR"u8,
        LogLevel.Warning => "WRN"u8,
        LogLevel.Information => "INF"u8,
        LogLevel.Debug => "DBG"u8,
        _ => "VRB"u8,
    };

    /// <summary>The syslog priority digit of a level, as the journal template gives it.</summary>
    private static byte Priority(LogLevel level) => level switch
    {
        LogLevel.Critical => (byte)'2',
        LogLevel.Error => (byte)'3',
        LogLevel.Warning => (byte)'4',
        LogLevel.Information => (byte)'6',
        _ => (byte)'7',
    };

    /// <summary>Writes what is buffered. stderr gone (EPIPE) or failing: the lines are
    /// dropped, as Serilog's console sink would drop them.</summary>
    private unsafe void Flush()
    {
        if (_length == 0) return;
        lock (Console.Error)
        {
            int done = 0;
            fixed (byte* p = _buffer)
            {
                while (done < _length)
                {
                    long n = Syscall.write(Fd, p + done, (ulong)(_length - done));
                    if (n > 0) { done += (int)n; continue; }
                    var errno = Stdlib.GetLastError();
                    if (errno == Errno.EINTR) continue;
                    if (errno == Errno.EAGAIN)
                    {
                        // A non-blocking stderr (shared with someone who set O_NONBLOCK): wait.
                        var poll = new[] { new Pollfd { fd = Fd, events = PollEvents.POLLOUT } };
                        Syscall.poll(poll, 1, -1);
                        continue;
                    }
                    break;
                }
            }
        }
        _length = 0;
    }
}
