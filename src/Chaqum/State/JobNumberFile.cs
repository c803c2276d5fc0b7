using System.Globalization;
using Chaqum.Scheduling;

namespace Chaqum.State;

/// <summary>
/// Hands out job numbers that never repeat for a tree, even across restarts and crashes:
/// numbers are reserved in blocks, and the end of the current block is written (atomically,
/// via rename) before any number of it is used. A crash skips at most one block's rest.
/// Without a usable state directory it still works, but only within one run.
/// </summary>
public sealed class JobNumberFile : IJobNumbers
{
    private const long Block = 1000;
    private readonly string? _path;
    private long _next;
    private long _limit;

    public JobNumberFile(string? stateDir)
    {
        _path = stateDir is null ? null : Path.Combine(stateDir, "next-job-number");
        _next = 1;
        if (_path is not null && File.Exists(_path) &&
            long.TryParse(File.ReadAllText(_path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long stored) && stored > 0)
            _next = stored;
        _limit = _next;
    }

    public long Next()
    {
        if (_next >= _limit) Reserve();
        return _next++;
    }

    private void Reserve()
    {
        _limit = _next + Block;
        if (_path is null) return;
        var tmp = _path + ".tmp";
        using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 64, FileOptions.WriteThrough))
        {
            var bytes = System.Text.Encoding.ASCII.GetBytes(_limit.ToString(CultureInfo.InvariantCulture) + "\n");
            f.Write(bytes);
            f.Flush(true);
        }
        File.Move(tmp, _path, overwrite: true);
    }
}
