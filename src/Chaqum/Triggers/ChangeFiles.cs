using System.Text;
using Chaqum.Scheduling.Repeats;
using Microsoft.Extensions.Logging;

namespace Chaqum.Triggers;

/// <summary>
/// The files that tell a file trigger's job what changed: each path followed by a NUL
/// byte (as find -print0 writes them; xargs -0 and read -d '' take them), because a file
/// name may hold any byte but NUL, newlines included. They live in the state directory's
/// changes/ (or a private temporary directory without one), readable by the daemon's user
/// only, and go when the job that was given one ends. Left-overs of an earlier daemon are
/// removed at start.
/// </summary>
public sealed class ChangeFiles
{
    private readonly string _dir;
    private readonly ILogger _log;
    private long _next;

    public ChangeFiles(string? stateDir, ILogger log)
    {
        _log = log;
        _dir = stateDir is not null
            ? Path.Combine(stateDir, "changes")
            : Path.Combine(Path.GetTempPath(), $"chaqum-changes-{Environment.ProcessId}");
    }

    public string Directory => _dir;

    private void Ensure()
    {
        if (System.IO.Directory.Exists(_dir)) return;
        System.IO.Directory.CreateDirectory(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Removes what an earlier daemon left (its jobs are gone).</summary>
    public void Clean()
    {
        try
        {
            if (!System.IO.Directory.Exists(_dir)) return;
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
            Ensure();
            var file = Path.Combine(_dir, $"changes.{++_next}");
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
}
