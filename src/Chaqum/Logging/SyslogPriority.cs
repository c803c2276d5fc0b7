using Serilog.Core;
using Serilog.Events;

namespace Chaqum.Logging;

/// <summary>Adds the syslog priority of an event's level (sd-daemon(3): "&lt;N&gt;"
/// prefixes), for the journal.</summary>
public sealed class SyslogPriority : ILogEventEnricher
{
    public const string Property = "SyslogPriority";

    private static readonly LogEventProperty[] ByLevel =
    {
        new(Property, new ScalarValue(7)), // Verbose: debug
        new(Property, new ScalarValue(7)), // Debug: debug
        new(Property, new ScalarValue(6)), // Information: info
        new(Property, new ScalarValue(4)), // Warning: warning
        new(Property, new ScalarValue(3)), // Error: err
        new(Property, new ScalarValue(2)), // Fatal: crit (our "critical")
    };

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory factory) =>
        logEvent.AddPropertyIfAbsent(ByLevel[(int)logEvent.Level]);
}
