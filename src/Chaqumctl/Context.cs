using System.Text.Json.Nodes;
using Chaqum.Control;

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
    private JsonNode? _hello;

    /// <summary>The tree's canonical path, if -t was given.</summary>
    public string? TreeRoot => Tree is null ? null : Canonical(Tree);

    private static string Canonical(string path) =>
        Chaqum.Control.Native.Paths.RealPath(path, out _) ?? Path.GetFullPath(path);

    public IEnumerable<string> SocketCandidates()
    {
        if (Socket is not null) { yield return Path.GetFullPath(Socket); yield break; }
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
                try { return _client = ControlClient.Connect(path); }
                catch (ControlUnavailableException e) { last = e; }
            }
            throw last!;
        }
    }

    public JsonNode Call(string command, JsonObject? args = null, Action<JsonNode>? onEvent = null) =>
        Client.Call(command, args, onEvent);

    public JsonNode Hello => _hello ??= Call("hello");

    /// <summary>The state directory for reading the history, with or without a daemon.</summary>
    public string? StateDir()
    {
        if (StateDirOption is not null) return Path.GetFullPath(StateDirOption);
        try
        {
            var dir = Hello["state_dir"]?.GetValue<string>();
            if (!string.IsNullOrEmpty(dir)) return dir;
        }
        catch (ControlUnavailableException) { }
        if (TreeRoot is { } root) return StateDirectory.Resolve(null, root);
        if (Environment.GetEnvironmentVariable("CHAQUM_TREE") is { Length: > 0 } tree) return StateDirectory.Resolve(null, tree);
        return null;
    }
}
