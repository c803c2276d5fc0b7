using Chaqum.Control;
using Chaqum.Control.Messages;

namespace Chaqum.Web.Daemon;

/// <summary>
/// How chaqum-web reaches the daemon: as chaqumctl does (--socket; else the socket the
/// daemon's rules give for -t TREE; else the path the daemon left in the tree's state
/// directory), once per request. A connection per call costs a connect on a unix socket
/// and keeps one slow page from holding up another.
///
/// No daemon is an answer, not a crash: <see cref="DaemonDownException"/> says so in a
/// sentence, which pages show in a banner and the API returns with 503.
/// </summary>
public sealed class DaemonLink(WebOptions options)
{
    /// <summary>The tree's canonical path (-t), or null with --socket only.</summary>
    public string? TreeRoot { get; } = options.Tree is null ? null
        : Chaqum.Control.Native.Paths.RealPath(options.Tree, out _) ?? Path.GetFullPath(options.Tree);

    private IEnumerable<string> Candidates()
    {
        if (options.Socket is not null)
        {
            yield return Path.GetFullPath(options.Socket);
            yield break;
        }
        if (TreeRoot is null) yield break;
        yield return ControlPaths.Socket(null, TreeRoot);
        var pointer = Path.Combine(StateDirectory.Resolve(options.StateDir, TreeRoot), "control-socket");
        string? pointed = null;
        try { if (File.Exists(pointer)) pointed = File.ReadAllText(pointer).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        if (pointed is { Length: > 0 }) yield return pointed;
    }

    /// <summary>A new connection to the daemon.</summary>
    /// <exception cref="DaemonDownException">No daemon answers.</exception>
    public ControlClient Connect()
    {
        ControlUnavailableException? last = null;
        foreach (var path in Candidates().Distinct())
        {
            try { return ControlClient.Connect(path); }
            catch (ControlUnavailableException e) { last = e; }
        }
        throw new DaemonDownException(last?.Message ?? "no control socket to try");
    }

    /// <summary>One request on a connection of its own, off the request thread.</summary>
    /// <exception cref="DaemonDownException">No daemon answers.</exception>
    /// <exception cref="ControlFailedException">The daemon refused the request (a sentence).</exception>
    public Task<TResult> CallAsync<TArgs, TResult>(ControlVerb<TArgs, TResult> verb, TArgs args) => Task.Run(() =>
    {
        using var client = Connect();
        try { return client.Call(verb, args); }
        catch (ControlUnavailableException e) { throw new DaemonDownException(e.Message); }
    });

    public Task<TResult> CallAsync<TResult>(ControlVerb<NoArgs, TResult> verb) => CallAsync(verb, new NoArgs());

    /// <summary>The state directory for the history: --state-dir, else the daemon's, else
    /// the tree's default.</summary>
    public async Task<string?> StateDirAsync()
    {
        if (options.StateDir is not null) return Path.GetFullPath(options.StateDir);
        try
        {
            var hello = await CallAsync(ControlVerbs.Hello);
            if (hello.StateDir is { Length: > 0 } dir) return dir;
        }
        catch (Exception e) when (e is DaemonDownException or ControlFailedException) { }
        return TreeRoot is null ? null : StateDirectory.Resolve(null, TreeRoot);
    }
}

/// <summary>No daemon could be reached; the message says where it was looked for.</summary>
public sealed class DaemonDownException(string reason) : Exception($"the daemon is not running ({reason})");
