namespace Chaqum.Scheduling;

/// <summary>Hands out the lowest free slot number of a capped group. Every number below
/// the high-water mark is either in use or in the free heap, so the lowest free one is
/// the smaller of the heap's minimum and the high-water mark.</summary>
public sealed class Slots
{
    private readonly PriorityQueue<int, int> _free = new();
    private int _highWater;

    public int Take()
    {
        if (_free.TryPeek(out int slot, out _) && slot < _highWater)
        {
            _free.Dequeue();
            return slot;
        }
        return _highWater++;
    }

    public void Release(int slot)
    {
        if (slot < 0) return;
        if (slot == _highWater - 1 && _free.Count == 0) { _highWater--; return; }
        _free.Enqueue(slot, slot);
    }
}
