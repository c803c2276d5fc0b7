using System.Net.Sockets;
using Chaqum.Control.Messages;
using Chaqum.Native;
using Microsoft.Extensions.Logging;
using Mono.Unix.Native;

namespace Chaqum.Control;

/// <summary>
/// The operator's door into the daemon: a Unix socket (directory 0700, socket 0600) that
/// only the daemon's own uid and root may use. File permissions keep others out of the
/// path; the kernel's SO_PEERCRED check on every connection keeps them out even if the
/// permissions were loosened by hand. Sessions run on the thread pool; every request is
/// handled on the event loop, like everything else that touches jobs.
/// </summary>
public sealed class ControlServer : IDisposable
{
    private readonly ILogger _log;
    private readonly Socket _listener;
    private readonly ControlRequests _requests;
    private readonly CancellationTokenSource _stop = new();
    private readonly uint _uid = Syscall.getuid();

    public ControlServer(string path, ControlRequests requests, ILogger log)
    {
        Path = path;
        _requests = requests;
        _log = log;
        PrepareDirectory(System.IO.Path.GetDirectoryName(path)!);
        RemoveStale(path);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        // Bound and listening under a temporary name, then renamed into place: the path
        // appears only once connections are accepted. Between bind and listen a connect is
        // refused, and whoever polls for the file (chaqumctl, systemd's ExecStartPost, tests)
        // would take a starting daemon for a dead one.
        var bound = TemporaryName(path);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(bound));
            File.SetUnixFileMode(bound, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            _listener.Listen(64);
            if (bound != path && Syscall.rename(bound, path) != 0)
                throw new IOException($"rename: {Stdlib.strerror(Stdlib.GetLastError())}");
        }
        catch (Exception e) when (e is SocketException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            _listener.Dispose();
            try { if (bound != path) File.Delete(bound); } catch (IOException) { }
            throw new IOException($"control socket {path}: {e.Message}", e);
        }
    }

    /// <summary>A name beside the socket's for binding; the socket's own if the longer name
    /// would not fit in sun_path (108 bytes).</summary>
    private static string TemporaryName(string path)
    {
        var bound = $"{path}.{Environment.ProcessId}~";
        return System.Text.Encoding.UTF8.GetByteCount(bound) < 108 ? bound : path;
    }

    public string Path { get; }

    /// <summary>Creates the socket's directory 0700. In the shared /tmp, an existing one must
    /// be a directory of ours, root included: whoever owns the directory can swap the
    /// socket for their own.</summary>
    private void PrepareDirectory(string dir)
    {
        var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir, owner);
            return;
        }
        if (!dir.StartsWith("/tmp/", StringComparison.Ordinal) || Syscall.lstat(dir, out var st) != 0) return;
        if (st.st_uid != _uid || (st.st_mode & FilePermissions.S_IFMT) != FilePermissions.S_IFDIR)
            throw new IOException($"control socket directory {dir} belongs to another user (or is not a directory)");
    }

    /// <summary>A socket file left by a daemon that died is removed; one that answers
    /// belongs to a running daemon, and we do not steal it.</summary>
    private static void RemoveStale(string path)
    {
        if (!File.Exists(path) && !Path_IsSocket(path)) return;
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            throw new IOException($"control socket {path} is in use by another daemon");
        }
        catch (SocketException)
        {
            File.Delete(path);
        }
    }

    private static bool Path_IsSocket(string path) => Syscall.lstat(path, out _) == 0;

    public void Start() => _ = AcceptLoop();

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                _log.LogWarning("control socket: accept failed: {Error}", e.Message);
                await Task.Delay(100);
                continue;
            }

            var peer = PeerCredentials.Of(client);
            if (peer is not { } cred || (cred.Uid != _uid && cred.Uid != 0))
            {
                _log.LogWarning("control socket: refused a connection from uid {Uid} (pid {Pid})",
                    peer?.Uid.ToString() ?? "?", peer?.Pid.ToString() ?? "?");
                _ = RefuseAsync(client);
                continue;
            }
            _ = new ControlSession(client, _requests, _log, _stop.Token).RunAsync();
        }
    }

    private static async Task RefuseAsync(Socket client)
    {
        try
        {
            var refusal = new ControlResponse { Ok = false, Error = "permission denied: not the daemon's user" };
            var line = System.Text.Json.JsonSerializer.Serialize(refusal, ControlJson.Line.ControlResponse) + "\n";
            await client.SendAsync(System.Text.Encoding.UTF8.GetBytes(line));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        await Farewell.CloseAsync(client);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        try { File.Delete(Path); } catch (IOException) { }
    }
}
