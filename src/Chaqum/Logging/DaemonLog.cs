using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;

namespace Chaqum.Logging;

/// <summary>Serilog configuration for the daemon: a human-readable log on stderr (time,
/// level, message) and optionally a file. Under systemd, when stderr is the journal, each
/// line instead starts with its syslog priority ("&lt;3&gt;") and carries no timestamp:
/// journald adds its own and files the line at that priority.</summary>
public static class DaemonLog
{
    public const string ConsoleTemplate = "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}";
    public const string JournalTemplate = "<{" + SyslogPriority.Property + "}>{Message:lj}{NewLine}{Exception}";
    public const string FileTemplate = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} {Level:u3} {Message:lj}{NewLine}{Exception}";

    /// <summary>-v shows debug events, -vv verbose ones (including the host's).</summary>
    public static LogEventLevel LevelFor(int verbosity) => verbosity switch
    {
        <= 0 => LogEventLevel.Information,
        1 => LogEventLevel.Debug,
        _ => LogEventLevel.Verbose,
    };

    /// <summary>The log, and the file sink (null without --log-file) for SIGHUP reopening.</summary>
    public static (Serilog.Core.Logger Logger, ReopenableFileSink? File) Create(int verbosity, string? logFile, bool journal)
    {
        var config = new LoggerConfiguration()
            .Enrich.With<OneLineProperties>()
            .MinimumLevel.Is(LevelFor(verbosity))
            .MinimumLevel.Override("Microsoft", verbosity >= 2 ? LogEventLevel.Debug : LogEventLevel.Warning);
        config = journal
            ? config.Enrich.With<SyslogPriority>().WriteTo.Console(outputTemplate: JournalTemplate,
                standardErrorFromLevel: LogEventLevel.Verbose, formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            : config.WriteTo.Console(outputTemplate: ConsoleTemplate, standardErrorFromLevel: LogEventLevel.Verbose,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        ReopenableFileSink? file = null;
        if (logFile is not null)
        {
            file = new ReopenableFileSink(logFile, FileTemplate);
            config = config.WriteTo.Sink(file);
        }
        var logger = config.CreateLogger();
        if (file is not null)
        {
            file.Report = logger;
            if (file.Problem is { } problem) logger.Error("log file {Path}: cannot write ({Error}); will retry", file.Path, problem);
        }
        return (logger, file);
    }

    /// <summary>Is stderr the journal? systemd sets $JOURNAL_STREAM to "DEV:INODE" of the
    /// stream it connected; it is only ours if stderr still is that stream (a shell
    /// redirect inside the unit would make it something else).</summary>
    public static bool StderrIsJournal()
    {
        var value = Environment.GetEnvironmentVariable("JOURNAL_STREAM");
        if (string.IsNullOrEmpty(value)) return false;
        var parts = value.Split(':');
        if (parts.Length != 2 || !ulong.TryParse(parts[0], out ulong dev) || !ulong.TryParse(parts[1], out ulong ino)) return false;
        if (Mono.Unix.Native.Syscall.fstat(2, out var st) != 0) return false;
        return st.st_dev == dev && st.st_ino == ino;
    }

    public static LogEventLevel ToSerilog(LogLevel level) => level switch
    {
        LogLevel.Critical => LogEventLevel.Fatal,
        LogLevel.Error => LogEventLevel.Error,
        LogLevel.Warning => LogEventLevel.Warning,
        LogLevel.Information => LogEventLevel.Information,
        LogLevel.Debug => LogEventLevel.Debug,
        _ => LogEventLevel.Verbose,
    };
}

/// <summary>Job output into the daemon log: one event per line, "JOB[out] text".</summary>
public sealed class JobOutputLog(Serilog.ILogger logger) : IJobOutput
{
    public void Line(Job job, OutputStream stream, LogLevel level, string text)
    {
        var serilogLevel = DaemonLog.ToSerilog(level);
        if (!logger.IsEnabled(serilogLevel)) return;
        logger.Write(serilogLevel, "{Job}[{Stream}] {Line:l}", job.Id, stream == OutputStream.Stdout ? "out" : "err", text);
    }
}
