namespace Chaqum.Control;

/// <summary>
/// What waits to be sent to one reader that may fall behind (a `log -f` piped into a
/// paused `less`, a browser on a slow link): a queue bounded by size. A follower must
/// never slow the daemon, nor make it hold more than the bound: when an item would
/// exceed it, the oldest droppable items go, and the reader learns how many it missed
/// from the count that comes with the next item it takes. Items that must arrive (an
/// answer) are never dropped, and count towards nothing.
///
/// Any number of writers (thread-safe); one reader.
/// </summary>
public sealed class Backlog<T>
{
    private sealed class Entry(T item, long size, bool droppable)
    {
        public readonly T Item = item;
        public readonly long Size = size;
        public readonly bool Droppable = droppable;
        /// <summary>Droppable items dropped just before this one.</summary>
        public long SkippedBefore;
    }

    private readonly long _capacity;
    private readonly LinkedList<Entry> _entries = new();
    private readonly SemaphoreSlim _available = new(0);
    private long _size;
    /// <summary>Dropped after every item still queued: goes to the next one added.</summary>
    private long _skippedAtEnd;
    private bool _completed;

    /// <param name="capacity">The most the droppable items may add up to (in the caller's
    /// unit, bytes say); one item bigger than that is still kept, alone.</param>
    public Backlog(long capacity) => _capacity = capacity;

    /// <summary>How many droppable items were dropped in all.</summary>
    public long Dropped { get; private set; }

    /// <summary>Queues an item; returns false once the backlog is completed (the reader
    /// is gone).</summary>
    public bool Add(T item, long size = 0, bool droppable = false)
    {
        lock (_entries)
        {
            if (_completed) return false;
            var entry = new Entry(item, droppable ? size : 0, droppable) { SkippedBefore = _skippedAtEnd };
            _skippedAtEnd = 0;
            _entries.AddLast(entry);
            _size += entry.Size;
            for (var node = _entries.First; _size > _capacity && node is not null && node != _entries.Last;)
            {
                var next = node.Next;
                if (node.Value.Droppable) Drop(node);
                node = next;
            }
        }
        _available.Release();
        return true;
    }

    /// <summary>Whether a droppable item of this size would push older ones out: a writer
    /// with something costly to make (a line of a job that floods its output) can count it
    /// as dropped (<see cref="Skip"/>) instead of making it only to drop it. The reader
    /// then finds the items that wait, and the count, before what comes next.</summary>
    public bool Full(long size)
    {
        lock (_entries) return _size + size > _capacity && _entries.Count > 0;
    }

    /// <summary>Counts items as dropped without queueing them: the next item added
    /// carries the count.</summary>
    public void Skip(long count)
    {
        lock (_entries)
        {
            if (_completed || count <= 0) return;
            _skippedAtEnd += count;
            Dropped += count;
        }
    }

    private void Drop(LinkedListNode<Entry> node)
    {
        long skipped = node.Value.SkippedBefore + 1;
        if (node.Next is { } next) next.Value.SkippedBefore += skipped;
        else _skippedAtEnd += skipped;
        _size -= node.Value.Size;
        _entries.Remove(node);
        Dropped++;
    }

    /// <summary>The oldest item and how many were dropped just before it; null once the
    /// backlog is completed and empty.</summary>
    public async ValueTask<(T Item, long SkippedBefore)?> TakeAsync(CancellationToken cancel)
    {
        while (true)
        {
            await _available.WaitAsync(cancel);
            lock (_entries)
            {
                // Dropped items released the semaphore too: wait again for a kept one.
                if (_entries.First is { } first)
                {
                    _entries.RemoveFirst();
                    _size -= first.Value.Size;
                    return (first.Value.Item, first.Value.SkippedBefore);
                }
                if (_completed) return null;
            }
        }
    }

    /// <summary>The oldest item, if one is queued, without waiting (to send several at once).</summary>
    public bool TryTake(out T item, out long skippedBefore)
    {
        lock (_entries)
        {
            if (_entries.First is { } first)
            {
                _entries.RemoveFirst();
                _size -= first.Value.Size;
                (item, skippedBefore) = (first.Value.Item, first.Value.SkippedBefore);
                return true;
            }
        }
        (item, skippedBefore) = (default!, 0);
        return false;
    }

    /// <summary>No more items will come (or the reader is gone): TakeAsync returns what is
    /// left, then null.</summary>
    public void Complete()
    {
        lock (_entries)
        {
            if (_completed) return;
            _completed = true;
        }
        _available.Release();
    }

    /// <summary>Items still queued (for completing what is left when the reader is gone).</summary>
    public List<T> Clear()
    {
        lock (_entries)
        {
            var left = _entries.Select(e => e.Item).ToList();
            _entries.Clear();
            _size = 0;
            return left;
        }
    }
}
