using Chaqum.Control.Messages;

namespace Chaqum.Web.Live;

/// <summary>Snapshots taken from the dashboard (POST /snapshots), kept in this process so
/// that two can be compared; the newest 20. Downloaded as JSON they are the same files as
/// chaqumctl snapshot writes, so chaqumctl diff reads them too.</summary>
public sealed class Snapshots
{
    public const int Kept = 20;
    private readonly List<(int Number, Snapshot Snapshot)> _list = new();
    private int _next;

    public int Add(Snapshot snapshot)
    {
        lock (_list)
        {
            _list.Add((++_next, snapshot));
            if (_list.Count > Kept) _list.RemoveAt(0);
            return _next;
        }
    }

    public IReadOnlyList<(int Number, Snapshot Snapshot)> All
    {
        get { lock (_list) return _list.ToList(); }
    }

    public Snapshot? Find(int number)
    {
        lock (_list) return _list.FirstOrDefault(s => s.Number == number).Snapshot;
    }

    public sealed record Change(string Id, string Kind, string? From, string? State, string? Status);

    /// <summary>As chaqumctl diff: appeared, finished, vanished, changed.</summary>
    public static List<Change> Diff(Snapshot before, Snapshot after)
    {
        var old = before.Jobs.GroupBy(j => j.Id).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        var now = after.Jobs.GroupBy(j => j.Id).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        var changes = new List<Change>();
        foreach (var (id, job) in now)
        {
            if (!old.TryGetValue(id, out var was)) { changes.Add(new Change(id, "appeared", null, job.State, null)); continue; }
            if (was.State == job.State) continue;
            bool ended = job.State is "done" or "cancelled";
            changes.Add(new Change(id, ended ? "finished" : "changed", was.State, job.State, job.Status));
        }
        foreach (var (id, was) in old)
            if (!now.ContainsKey(id)) changes.Add(new Change(id, "vanished", was.State, null, null));
        return changes;
    }
}
