using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Chaqum.Logging;

/// <summary>
/// The --log-file sink. It writes to exactly the path given and reopens it on SIGHUP, so
/// logrotate (or anyone) can move the file away and signal us, as with any Unix daemon.
/// Serilog's file sink cannot reopen, so we swap in a fresh one.
/// </summary>
public sealed class ReopenableFileSink : ILogEventSink, IDisposable
{
    private readonly string _path;
    private readonly string _template;
    private readonly object _gate = new();
    private Logger _current;

    public ReopenableFileSink(string path, string template)
    {
        _path = path;
        _template = template;
        _current = Open();
    }

    public string Path => _path;

    private Logger Open() => new LoggerConfiguration()
        .MinimumLevel.Verbose()
        .WriteTo.File(_path, outputTemplate: _template, fileSizeLimitBytes: null,
            formatProvider: System.Globalization.CultureInfo.InvariantCulture)
        .CreateLogger();

    public void Emit(LogEvent logEvent)
    {
        lock (_gate) _current.Write(logEvent);
    }

    /// <summary>Null when reopened; else why not (the old file stays in use).</summary>
    public string? Reopen()
    {
        lock (_gate)
        {
            Logger fresh;
            try { fresh = Open(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return e.Message; }
            var old = _current;
            _current = fresh;
            old.Dispose();
            return null;
        }
    }

    public void Dispose()
    {
        lock (_gate) _current.Dispose();
    }
}
