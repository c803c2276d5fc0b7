using Chaqum.Control.Native;
using Chaqum.Native;
using Chaqum.Protocol;
using Chaqum.Scheduling;
using Mono.Unix.Native;

namespace Chaqum;

/// <summary>
/// The directory of job scripts. Every script a command names must resolve, after all
/// symlinks, to an executable regular file inside the tree: absolute paths outside,
/// ".." escapes, symlinks pointing out, directories, non-executables and missing files are
/// refused. A symlink inside the tree runs as its target (ids use the target's path).
/// </summary>
public sealed class JobTree
{
    private JobTree(string root) => Root = root;

    /// <summary>The tree's canonical absolute path (symlinks resolved).</summary>
    public string Root { get; }

    /// <summary>Opens a tree, or throws with a one-line message for the operator.</summary>
    public static JobTree Open(string path)
    {
        if (!Directory.Exists(path))
            throw new ArgumentException(File.Exists(path) ? $"{path}: not a directory" : $"{path}: no such directory");
        var real = Paths.RealPath(path, out int errno)
            ?? throw new ArgumentException($"{path}: {Native.Errno.Text(errno)}");
        return new JobTree(real);
    }

    /// <summary>Resolves a script named in a command.</summary>
    /// <exception cref="ProtocolException">With the reason it is refused.</exception>
    public ScriptPath Resolve(string script)
    {
        if (script.Length == 0) throw new ProtocolException("empty script name");
        if (script.Contains('\0')) throw new ProtocolException("script name contains a NUL byte");
        if (script.Length > 4096) throw new ProtocolException("script path is too long");

        string candidate = Path.IsPathRooted(script) ? script : Root + "/" + script;
        var real = Paths.RealPath(candidate, out int errno);
        if (real is null)
        {
            string why = errno switch
            {
                Native.Errno.ENOENT => "no such script",
                Native.Errno.ENAMETOOLONG => "script path is too long",
                _ => Native.Errno.Text(errno),
            };
            throw new ProtocolException($"{why}: '{script}'");
        }
        if (!real.StartsWith(Root + "/", StringComparison.Ordinal))
            throw new ProtocolException($"'{script}' is outside the job tree");
        if (Syscall.stat(real, out var st) != 0)
            throw new ProtocolException($"cannot stat '{script}': {Stdlib.GetLastError()}");
        if ((st.st_mode & FilePermissions.S_IFMT) != FilePermissions.S_IFREG)
            throw new ProtocolException($"'{script}' is not a regular file");
        if (Syscall.access(real, AccessModes.X_OK) != 0)
            throw new ProtocolException($"'{script}' is not executable");
        // One ScriptPath per script, not per job: 100 000 queued jobs of one script need
        // its two paths once (the checks above are still made for every enqueue).
        if (_scripts.TryGetValue(real, out var known)) return known;
        if (_scripts.Count >= 10_000) _scripts.Clear();
        return _scripts[real] = new ScriptPath(real[(Root.Length + 1)..], real);
    }

    private readonly Dictionary<string, ScriptPath> _scripts = new(StringComparer.Ordinal);
}
