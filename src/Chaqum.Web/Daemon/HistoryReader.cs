using Chaqum.History;

namespace Chaqum.Web.Daemon;

/// <summary>The tree's history of runs, read from the SQLite database in its state
/// directory: with or without a daemon (the database is opened read-only each time, as
/// chaqumctl history does, so the daemon's writer is never held up).</summary>
public sealed class HistoryReader(DaemonLink daemon)
{
    /// <summary>The store, or null when there is no history yet (no database).</summary>
    /// <exception cref="HistoryUnavailableException">There is a database but it cannot be read.</exception>
    public async Task<HistoryStore?> OpenAsync()
    {
        var dir = await daemon.StateDirAsync();
        if (dir is null || !File.Exists(HistoryStore.PathIn(dir))) return null;
        try { return HistoryStore.Open(dir, readOnly: true); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new HistoryUnavailableException($"the history in {dir} cannot be read: {e.Message}");
        }
    }
}

public sealed class HistoryUnavailableException(string message) : Exception(message);
