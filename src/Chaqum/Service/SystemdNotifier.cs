using System.Net.Sockets;
using System.Text;

namespace Chaqum.Service;

/// <summary>
/// sd_notify(3) without libsystemd: one datagram per message to the socket named by
/// $NOTIFY_SOCKET (a path, or an abstract name starting with '@'). When the variable is
/// unset (not started by systemd with Type=notify) nothing is ever sent. Sending never
/// blocks and never fails the daemon: systemd being gone is not our problem to solve.
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endpoint;

    public SystemdNotifier(string? socketPath)
    {
        if (string.IsNullOrEmpty(socketPath) || (socketPath[0] != '/' && socketPath[0] != '@')) return;
        var name = socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath;
        _endpoint = new UnixDomainSocketEndPoint(name);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { Blocking = false };
    }

    public static SystemdNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    public bool Enabled => _socket is not null;

    /// <summary>Sends "KEY=value" lines as one datagram; false if it could not be sent.</summary>
    public bool Notify(string state)
    {
        if (_socket is null) return false;
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), _endpoint!);
            return true;
        }
        catch (SocketException) { return false; }
        catch (ObjectDisposedException) { return false; }
    }

    /// <summary>The watchdog interval systemd expects pings at ($WATCHDOG_USEC), when it
    /// is meant for us ($WATCHDOG_PID unset or ours).</summary>
    public static TimeSpan? WatchdogInterval()
    {
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString()) return null;
        return long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), out long usec) && usec > 0
            ? TimeSpan.FromTicks(usec * 10)
            : null;
    }

    public void Dispose() => _socket?.Dispose();
}
