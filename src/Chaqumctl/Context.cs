using Chaqum.Control;
using Chaqum.Control.Messages;

namespace Chaqumctl;

/// <summary>
/// What every subcommand needs: how to reach the daemon (--socket, else $CHAQUM_CONTROL
/// inside a job, else -t TREE by the daemon's own rules, else the pointer the daemon left
/// in the tree's state directory) and where the history is (--state-dir, else what the
/// daemon says, else the tree's default state directory).
/// </summary>
public sealed class Context
{
    public string? Tree { get; set; }
    public string? Socket { get; set; }
    public string? StateDirOption { get; set; }
    private ControlClient? _client;
    private HelloResult? _hello;

    /// <summary>The tree's canonical path, if -t was given.</summary>
    public string? TreeRoot => Tree is null ? null : Canonical(Tree);

    private static string Canonical(string path) =>
        Chaqum.Control.Native.Paths.RealPath(path, out _) ?? Path.GetFullPath(path);

    /// <summary>Where systemd units keep their runtime directories (RuntimeDirectory=chaqum/NAME):
    /// a daemon found there serves -t TREE only if it says it serves that tree.</summary>
    private static IEnumerable<string> ServiceSockets()
    {
        var roots = new List<string> { "/run/chaqum" };
        if (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg) roots.Add(Path.Combine(xdg, "chaqum"));
        foreach (var root in roots)
        {
            string[] dirs;
            try { dirs = Directory.GetDirectories(root); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            foreach (var dir in dirs.Order(StringComparer.Ordinal))
                if (File.Exists(Path.Combine(dir, "chaqum.sock"))) yield return Path.Combine(dir, "chaqum.sock");
        }
    }

    public IEnumerable<string> SocketCandidates()
    {
        if (Socket is not null)
        {
            var path = Path.GetFullPath(Socket);
            // sun_path holds 107 bytes and a NUL: no socket can have a longer path.
            if (System.Text.Encoding.UTF8.GetByteCount(path) > 107)
                throw new UsageException($"--socket: {path} is too long for a socket path (at most 107 bytes; use a symlink to its directory)");
            yield return path;
            yield break;
        }
        if (Tree is null && Environment.GetEnvironmentVariable("CHAQUM_CONTROL") is { Length: > 0 } inJob)
        {
            yield return inJob;
            yield break;
        }
        if (TreeRoot is not { } root) yield break;
        yield return ControlPaths.Socket(null, root);
        var pointer = Path.Combine(StateDirectory.Resolve(StateDirOption, root), "control-socket");
        if (File.Exists(pointer)) yield return File.ReadAllText(pointer).Trim();
    }

    /// <exception cref="ControlUnavailableException">No daemon can be reached.</exception>
    public ControlClient Client
    {
        get
        {
            if (_client is not null) return _client;
            var candidates = SocketCandidates().Distinct().ToList();
            if (candidates.Count == 0)
                throw new ControlUnavailableException("which daemon? give -t TREE or --socket PATH (inside a job, $CHAQUM_CONTROL is used)");
            ControlUnavailableException? last = null;
            foreach (var path in candidates)
            {
                try
                {
                    _client = ControlClient.Connect(path);
                    SocketPath = path;
                    return _client;
                }
                catch (ControlUnavailableException e) { last = e; }
            }
            if (TreeRoot is { } root && Socket is null)
            {
                foreach (var path in ServiceSockets().Except(candidates))
                {
                    try
                    {
                        var client = ControlClient.Connect(path);
                        var hello = client.Call(ControlVerbs.Hello);
                        if (hello.Tree == root)
                        {
                            (_client, _hello, SocketPath) = (client, hello, path);
                            return client;
                        }
                        client.Dispose();
                    }
                    catch (Exception e) when (e is ControlUnavailableException or ControlFailedException) { }
                }
            }
            throw last!;
        }
    }

    /// <summary>The socket we are connected to.</summary>
    public string? SocketPath { get; private set; }

    /// <summary>The id of the job we run in, when we talk to that job's own daemon
    /// ($CHAQUM_IDENT with the socket of $CHAQUM_CONTROL); else null.</summary>
    public string? OwnJobId =>
        Environment.GetEnvironmentVariable("CHAQUM_IDENT") is { Length: > 0 } ident && SocketPath is not null &&
        Environment.GetEnvironmentVariable("CHAQUM_CONTROL") is { Length: > 0 } own &&
        Path.GetFullPath(own) == Path.GetFullPath(SocketPath) ? ident : null;

    public TResult Call<TArgs, TResult>(ControlVerb<TArgs, TResult> verb, TArgs args, Action<ControlEvent>? onEvent = null) =>
        Client.Call(verb, args, onEvent);

    public TResult Call<TResult>(ControlVerb<NoArgs, TResult> verb) => Client.Call(verb);

    public HelloResult Hello => _hello ??= Call(ControlVerbs.Hello);

    /// <summary>The state directory for reading the history, with or without a daemon.</summary>
    public string? StateDir()
    {
        if (StateDirOption is not null) return Path.GetFullPath(StateDirOption);
        try
        {
            var dir = Hello.StateDir;
            if (!string.IsNullOrEmpty(dir)) return dir;
        }
        catch (ControlUnavailableException) { }
        if (TreeRoot is { } root) return StateDirectory.Resolve(null, root);
        if (Environment.GetEnvironmentVariable("CHAQUM_TREE") is { Length: > 0 } tree) return StateDirectory.Resolve(null, tree);
        return null;
    }
}
