using System.Text;
using Chaqum.Scheduling.Repeats;
using Microsoft.Extensions.Logging;

namespace Chaqum.Triggers;

/// <summary>
/// The files that tell a file trigger's job what changed: each path followed by a NUL
/// byte (as find -print0 writes them; xargs -0 and read -d '' take them), because a file
/// name may hold any byte but NUL, newlines included. They live in the state directory's
/// changes/ (or, without one, a temporary directory made on the first firing and removed
/// when the daemon ends), readable by the daemon's user only, and go when the job that was
/// given one ends. Left-overs of an earlier daemon are removed at start.
/// </summary>
public sealed class ChangeFiles : IDisposable
{
    private readonly string? _stateDir;
    private string? _dir;
    private readonly ILogger _log;
    private long _next;

    public ChangeFiles(string? stateDir, ILogger log)
    {
        _log = log;
        _stateDir = stateDir;
        if (stateDir is not null) _dir = Path.Combine(stateDir, "changes");
    }

    private string Ensure()
    {
        // A temporary directory with a name nobody could guess and take first (mkdtemp,
        // mode 0700): a fixed name in /tmp could be made beforehand by another user.
        if (_dir is null) return _dir = System.IO.Directory.CreateTempSubdirectory("chaqum-changes-").FullName;
        if (!System.IO.Directory.Exists(_dir))
            System.IO.Directory.CreateDirectory(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return _dir;
    }

    /// <summary>Removes what an earlier daemon left (its jobs are gone).</summary>
    public void Clean()
    {
        try
        {
            if (_dir is null || !System.IO.Directory.Exists(_dir)) return;
            foreach (var f in System.IO.Directory.EnumerateFiles(_dir, "changes.*")) File.Delete(f);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("cannot clean {Dir}: {Error}", _dir, e.Message);
        }
    }

    /// <exception cref="IOException">The file could not be written.</exception>
    public ChangeBatch Write(IReadOnlyList<string> paths, bool incomplete)
    {
        try
        {
            var file = Path.Combine(Ensure(), $"changes.{++_next}");
            var options = new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                BufferSize = 64 * 1024,
            };
            using (var stream = new FileStream(file, options))
            {
                var nul = new byte[] { 0 };
                foreach (var p in paths)
                {
                    stream.Write(Encoding.UTF8.GetBytes(p));
                    stream.Write(nul);
                }
            }
            return new ChangeBatch(file, paths.Count, incomplete);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    public void Discard(ChangeBatch batch)
    {
        try { File.Delete(batch.File); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("cannot remove {File}: {Error}", batch.File, e.Message);
        }
    }

    /// <summary>The temporary directory (no state directory) goes with the daemon.</summary>
    public void Dispose()
    {
        if (_stateDir is not null || _dir is null) return;
        try { System.IO.Directory.Delete(_dir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("cannot remove {Dir}: {Error}", _dir, e.Message);
        }
    }
}
