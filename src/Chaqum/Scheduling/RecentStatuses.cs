namespace Chaqum.Scheduling;

/// <summary>The final status of the most recent finished jobs, oldest forgotten first, so
/// "-a ID" can name a job whose result was already fetched or dropped.</summary>
public sealed class RecentStatuses(int capacity)
{
    private readonly Dictionary<string, JobStatus> _byId = new();
    private readonly Queue<string> _order = new();

    public void Add(string id, JobStatus status)
    {
        if (_byId.TryAdd(id, status)) _order.Enqueue(id);
        else _byId[id] = status;
        while (_order.Count > capacity) _byId.Remove(_order.Dequeue());
    }

    public bool TryGet(string id, out JobStatus status) => _byId.TryGetValue(id, out status);
}
