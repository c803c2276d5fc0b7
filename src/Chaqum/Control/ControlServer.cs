using System.Net.Sockets;
using Chaqum.Control.Messages;
using Chaqum.Native;
using Chaqum.Service;
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
    private readonly HeldLock _lock;
    private readonly (ulong Dev, ulong Ino) _identity;

    public ControlServer(string path, ControlRequests requests, ILogger log)
    {
        Path = path;
        _requests = requests;
        _log = log;
        PrepareDirectory(System.IO.Path.GetDirectoryName(path)!);
        // Probe, remove and bind are one step for every daemon that holds PATH.lock: two
        // daemons given the same path (with different trees or state directories) cannot
        // both find it free and both bind, the second unreachable.
        _lock = HeldLock.TryTake(path + ".lock", out int holder)
            ?? throw new IOException($"control socket {path} is in use by another daemon " +
                (holder > 0 ? $"(pid {holder}, " : "(") + $"lock {path}.lock)");
        try
        {
            RemoveStale(path);
            _listener = Bind(path, out _identity);
        }
        catch
        {
            _lock.Dispose();
            throw;
        }
    }

    /// <summary>Bound and listening under a temporary name, then renamed into place: the path
    /// appears only once connections are accepted. Between bind and listen a connect is
    /// refused, and whoever polls for the file (chaqumctl, systemd's ExecStartPost, tests)
    /// would take a starting daemon for a dead one. Returns the socket's dev and inode, to
    /// remove at exit only what is still ours.</summary>
    private static Socket Bind(string path, out (ulong Dev, ulong Ino) identity)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var bound = TemporaryName(path);
        bool ours = false;
        try
        {
            if (bound != path) RemoveStale(bound);
            listener.Bind(new UnixDomainSocketEndPoint(bound));
            ours = true;
            File.SetUnixFileMode(bound, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(64);
            // NOREPLACE: whatever appeared at the path since the probe is not ours to replace.
            if (bound != path && Files.RenameAt2(Files.AT_FDCWD, bound, Files.AT_FDCWD, path, Files.RENAME_NOREPLACE) != 0)
            {
                int errno = Chaqum.Native.Errno.Last;
                throw new IOException(errno == Files.EEXIST ? "something appeared at the path while starting; refusing to replace it"
                    : $"rename: {Chaqum.Native.Errno.Text(errno)}");
            }
            ours = false; // the temporary name is gone
            if (Syscall.lstat(path, out var st) != 0) throw new IOException($"lstat: {Stdlib.strerror(Stdlib.GetLastError())}");
            identity = (st.st_dev, st.st_ino);
            return listener;
        }
        catch (Exception e) when (e is SocketException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            listener.Dispose();
            // Only a name we bound ourselves is removed; a failed bind leaves what was there.
            if (ours) Syscall.unlink(bound);
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

    /// <summary>A socket left by a daemon that died is removed; one that answers belongs to
    /// a running daemon, and we do not steal it. Anything that is not a socket (a file, a
    /// device such as /dev/null, a directory, a symlink) is never removed: the operator
    /// gave a wrong path. Called with the lock held, so no daemon binds in between.</summary>
    private static void RemoveStale(string path)
    {
        if (Syscall.lstat(path, out var st) != 0) return; // nothing there
        if (!IsSocket(st))
            throw new IOException($"control socket {path}: the path exists and is not a socket; " +
                "refusing to replace it (give another --control path, or remove it yourself)");
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // Nobody listens. Remove it only if it is still the socket we probed.
            if (Syscall.lstat(path, out var again) == 0 && again.st_ino == st.st_ino && again.st_dev == st.st_dev
                && Syscall.unlink(path) != 0)
                throw new IOException($"control socket {path}: cannot remove the stale socket: {Stdlib.strerror(Stdlib.GetLastError())}");
            return;
        }
        catch (SocketException e)
        {
            throw new IOException($"control socket {path}: cannot tell whether a daemon listens ({e.Message}); refusing to replace it");
        }
        throw new IOException($"control socket {path} is in use by another daemon");
    }

    private static bool IsSocket(Stat st) => (st.st_mode & FilePermissions.S_IFMT) == FilePermissions.S_IFSOCK;

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

    /// <summary>Stops accepting and removes the socket, if the path still names the one we
    /// bound (not a file someone put there since); a failure is logged, never thrown: the
    /// rest of an orderly stop must still happen.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        if (Syscall.lstat(Path, out var st) == 0)
        {
            if (!IsSocket(st) || st.st_dev != _identity.Dev || st.st_ino != _identity.Ino)
                _log.LogWarning("control socket {Path} was replaced while we ran; left alone", Path);
            else if (Syscall.unlink(Path) != 0)
                _log.LogWarning("cannot remove the control socket {Path}: {Error}", Path, Stdlib.strerror(Stdlib.GetLastError()));
        }
        _lock.Dispose();
    }
}
