using System.Globalization;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mono.Unix.Native;

namespace Chaqum.Persistence;

/// <summary>
/// Hands out job numbers that never repeat for a tree, even across restarts and crashes:
/// numbers are reserved in blocks, and the end of the current block is written (atomically,
/// via rename) before any number of it is used. A crash skips at most one block's rest;
/// an orderly stop writes the exact next number (<see cref="SaveExact"/>), so ids go on
/// without a gap after a restart. Without a usable state directory it still works, but only within one run.
///
/// The write and the rename happen before any number of the block is used, which is all
/// a crash of the daemon needs (the kernel keeps what was written). Against power loss the
/// file and its directory are also fsynced, but off the event loop, after the fact: the
/// fsync before the entry job's first number was a fifth of the start-up to init's first
/// answer on a busy machine (docs/performance.md, "Start-up"), and power lost within those
/// milliseconds loses the runs' history too.
///
/// If the reservation cannot be written (disk full, state directory made read-only), jobs
/// still get numbers, from memory: the problem is logged once and the write is tried again
/// at every new job until it works. Only a restart before then could repeat numbers.
/// </summary>
public sealed class JobNumberFile : IJobNumbers
{
    private const long Block = 1000;
    private readonly string? _path;
    private readonly ILogger _log;
    private long _next;
    private long _limit;
    private bool _unsaved;

    public JobNumberFile(string? stateDir, ILogger? log = null)
    {
        _log = log ?? NullLogger.Instance;
        _path = stateDir is null ? null : Path.Combine(stateDir, "next-job-number");
        _next = 1;
        if (_path is not null && File.Exists(_path) &&
            long.TryParse(File.ReadAllText(_path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long stored) && stored > 0)
            _next = stored;
        _limit = _next;
    }

    public long Next()
    {
        if (_next >= _limit)
        {
            _limit = _next + Block;
            Save();
        }
        else if (_unsaved)
        {
            Save();
        }
        return _next++;
    }

    /// <summary>A resumed job keeps its number: the file normally lies past it already
    /// (it was handed out by an earlier run); if not (the file was lost), the numbering
    /// moves past it, so it is never handed out twice.</summary>
    public void Reserve(long number)
    {
        if (number < _next) return;
        _next = number + 1;
        if (_next > _limit)
        {
            _limit = _next + Block;
            Save();
        }
    }

    /// <summary>At an orderly stop: no number of the block is used any more, so the next
    /// run starts exactly where this one ended instead of at the block's end.</summary>
    public void SaveExact()
    {
        if (_limit == _next && !_unsaved) return;
        _limit = _next;
        Save(durableNow: true); // the process is about to exit: no thread would finish it
    }

    /// <summary>fsync of the file and of its directory (for the rename); a failure here
    /// leaves what a crash would (the write is done), so it is not reported.</summary>
    private static void Durable(string path)
    {
        foreach (var name in new[] { path, Path.GetDirectoryName(path)! })
        {
            int fd = Syscall.open(name, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
            if (fd < 0) continue;
            Syscall.fsync(fd);
            Syscall.close(fd);
        }
    }

    private void Save(bool durableNow = false)
    {
        if (_path is null) return;
        var tmp = _path + ".tmp";
        try
        {
            using (var f = new FileStream(tmp, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite, // whatever the umask
            }))
            {
                var bytes = System.Text.Encoding.ASCII.GetBytes(_limit.ToString(CultureInfo.InvariantCulture) + "\n");
                f.Write(bytes);
            }
            File.Move(tmp, _path, overwrite: true);
            string path = _path;
            if (durableNow) Durable(path);
            else Task.Run(() => Durable(path));
            if (_unsaved) _log.LogInformation("job numbers: {Path} written again", _path);
            _unsaved = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!_unsaved)
                _log.LogError("job numbers: cannot write {Path} ({Error}); jobs go on with numbers from memory, " +
                    "and a restart before the write succeeds could repeat them; will retry", _path, e.Message);
            _unsaved = true;
            try { File.Delete(tmp); } catch (Exception) { }
        }
    }
}
