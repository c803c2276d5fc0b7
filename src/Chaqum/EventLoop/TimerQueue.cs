namespace Chaqum.EventLoop;

/// <summary>Monotonic one-shot timers ordered by deadline; cancelled entries are skipped
/// lazily when they reach the head, so Cancel is O(1).</summary>
internal sealed class TimerQueue
{
    private readonly PriorityQueue<Entry, (TimeSpan Due, long Seq)> _queue = new();
    private long _seq;

    public sealed class Entry(Action callback) : ITimerHandle
    {
        public Action Callback { get; } = callback;
        public bool Cancelled { get; private set; }
        public void Cancel() => Cancelled = true;
    }

    public Entry Add(TimeSpan due, Action callback)
    {
        var entry = new Entry(callback);
        _queue.Enqueue(entry, (due, _seq++));
        return entry;
    }

    /// <summary>The next deadline, or null when no live timer is pending.</summary>
    public TimeSpan? NextDue
    {
        get
        {
            while (_queue.TryPeek(out var entry, out var key))
            {
                if (!entry.Cancelled) return key.Due;
                _queue.Dequeue();
            }
            return null;
        }
    }

    /// <summary>Removes and returns the earliest timer that is due at `now`, if any.</summary>
    public Entry? TakeDue(TimeSpan now)
    {
        while (_queue.TryPeek(out var entry, out var key))
        {
            if (entry.Cancelled) { _queue.Dequeue(); continue; }
            if (key.Due > now) return null;
            _queue.Dequeue();
            return entry;
        }
        return null;
    }

    public int Count => _queue.Count;
}
