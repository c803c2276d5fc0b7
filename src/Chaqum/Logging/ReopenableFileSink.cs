using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;

namespace Chaqum.Logging;

/// <summary>
/// The --log-file sink. It writes to exactly the path given and reopens it on SIGHUP, so
/// logrotate (or anyone) can move the file away and signal us, as with any Unix daemon.
/// Serilog's file sink cannot reopen, so we swap in a fresh one.
///
/// A file that cannot be opened or written (read-only directory, disk full) does not
/// stop the daemon: the problem is logged once (on the other sinks), the events are
/// dropped, and the file is tried again every few seconds until it works. (Serilog's own
/// file sink would swallow the error silently and never try again.)
/// </summary>
public sealed class ReopenableFileSink : ILogEventSink, IDisposable
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(5);
    private readonly string _path;
    private readonly ITextFormatter _formatter;
    private readonly object _gate = new();
    private LogFile? _current;
    private string? _problem;
    private DateTime _retryAt;

    public ReopenableFileSink(string path, string template)
    {
        _path = path;
        _formatter = new MessageTemplateTextFormatter(template, System.Globalization.CultureInfo.InvariantCulture);
        _current = TryOpen(out _problem);
        if (_current is null) _retryAt = DateTime.UtcNow + RetryEvery;
    }

    public string Path => _path;

    /// <summary>Where to say that the file cannot be written (the daemon's logger; events
    /// it sends here while the file is broken are dropped, not looped).</summary>
    public Serilog.ILogger? Report { get; set; }

    /// <summary>Why the file could not be opened at start, if it could not.</summary>
    public string? Problem => _problem;

    private LogFile? TryOpen(out string? error)
    {
        try
        {
            error = null;
            return new LogFile(_path, _formatter);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return null;
        }
    }

    public void Emit(LogEvent logEvent)
    {
        string? failed = null, recovered = null;
        lock (_gate)
        {
            if (_current is null)
            {
                if (DateTime.UtcNow < _retryAt) return;
                _current = TryOpen(out var error);
                if (_current is null)
                {
                    _retryAt = DateTime.UtcNow + RetryEvery;
                    if (_problem is null) failed = _problem = error;
                    return;
                }
            }
            try
            {
                _current.Write(logEvent);
                if (_problem is not null)
                {
                    recovered = _problem;
                    _problem = null;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                try { _current.Dispose(); } catch (Exception) { }
                _current = null;
                _retryAt = DateTime.UtcNow + RetryEvery;
                if (_problem is null) failed = _problem = e.Message;
            }
        }
        // Said outside the lock; the event comes back here and is dropped while broken.
        if (failed is not null) Report?.Error("log file {Path}: cannot write ({Error}); will retry", _path, failed);
        if (recovered is not null) Report?.Information("log file {Path}: writing again", _path);
    }

    /// <summary>Null when reopened; else why not (the old file stays in use).</summary>
    public string? Reopen()
    {
        lock (_gate)
        {
            var fresh = TryOpen(out var error);
            if (fresh is null) return error;
            var old = _current;
            _current = fresh;
            _problem = null;
            try { old?.Dispose(); } catch (Exception) { }
            return null;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            try { _current?.Dispose(); } catch (Exception) { }
            _current = null;
        }
    }

    /// <summary>One open log file: appended to, each event flushed as it comes (errors
    /// surface at once instead of in a later buffer flush).</summary>
    private sealed class LogFile(string path, ITextFormatter formatter) : IDisposable
    {
        private readonly StreamWriter _writer = new(
            new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                Share = FileShare.ReadWrite | FileShare.Delete,
                // Readable by the admins' group, writable by nobody else, whatever the umask.
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
            }),
            new System.Text.UTF8Encoding(false));

        public void Write(LogEvent logEvent)
        {
            formatter.Format(logEvent, _writer);
            _writer.Flush();
        }

        public void Dispose() => _writer.Dispose();
    }
}
