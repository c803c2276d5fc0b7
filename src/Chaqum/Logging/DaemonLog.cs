using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;

namespace Chaqum.Logging;

/// <summary>Serilog configuration for the daemon: a human-readable console log on stderr
/// (time, level, job id, message) and optionally a rolling file.</summary>
public static class DaemonLog
{
    public const string ConsoleTemplate = "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}";
    public const string FileTemplate = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} {Level:u3} {Message:lj}{NewLine}{Exception}";

    /// <summary>-v shows debug events, -vv verbose ones (including the host's).</summary>
    public static LogEventLevel LevelFor(int verbosity) => verbosity switch
    {
        <= 0 => LogEventLevel.Information,
        1 => LogEventLevel.Debug,
        _ => LogEventLevel.Verbose,
    };

    public static Serilog.Core.Logger Create(int verbosity, string? logFile)
    {
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(LevelFor(verbosity))
            .MinimumLevel.Override("Microsoft", verbosity >= 2 ? LogEventLevel.Debug : LogEventLevel.Warning)
            .WriteTo.Console(outputTemplate: ConsoleTemplate, standardErrorFromLevel: LogEventLevel.Verbose,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        if (logFile is not null)
        {
            config = config.WriteTo.File(logFile, outputTemplate: FileTemplate,
                rollingInterval: RollingInterval.Day, fileSizeLimitBytes: 256L * 1024 * 1024,
                rollOnFileSizeLimit: true, retainedFileCountLimit: 14,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }
        return config.CreateLogger();
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
