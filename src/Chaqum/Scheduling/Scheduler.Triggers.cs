using Chaqum.Scheduling.Repeats;
using Microsoft.Extensions.Logging;

namespace Chaqum.Scheduling;

/// <summary>File triggers (repeat -w): changes are collected and settled, then handed to
/// one firing at a time (see <see cref="FileTrigger"/>).</summary>
public sealed partial class Scheduler
{
    private void StartWatching(Repeat repeat, FileTrigger trigger)
    {
        if (_watches is null) throw new SchedulingException("file triggers are not available in this daemon");
        trigger.Handle = _watches.Watch(repeat.Id, trigger.Paths, new TriggerListener(this, repeat, trigger));
    }

    private static void StopWatching(FileTrigger trigger)
    {
        trigger.Handle?.Close();
        trigger.Handle = null;
        trigger.SettleTimer?.Cancel();
        trigger.SettleTimer = null;
    }

    /// <summary>Hands the watcher's reports to the scheduler (on the loop).</summary>
    private sealed class TriggerListener(Scheduler scheduler, Repeat repeat, FileTrigger trigger) : IFileWatchListener
    {
        public void Changed(string path) => scheduler.Changed(repeat, trigger, path);
        public void Overflowed() => scheduler.Changed(repeat, trigger, null, overflow: "the kernel's event queue overflowed");
        public void Unlistable(string directory) =>
            scheduler.Changed(repeat, trigger, null, overflow: $"a file whose name is not UTF-8 changed in {directory}");
    }

    /// <param name="overflow">Why the change cannot be listed (null: it is, as path).</param>
    private void Changed(Repeat repeat, FileTrigger trigger, string? path, string? overflow = null)
    {
        if (!_repeats.ContainsKey(repeat.Id) || Stopping || repeat.Disabled) return;
        trigger.Changes++;
        if (overflow is not null)
        {
            if (!trigger.Incomplete) _log.LogWarning("{Repeat}: {Why}; the next firing's list of changes is incomplete", repeat.Id, overflow);
            trigger.Incomplete = true;
        }
        else
        {
            trigger.Add(path!);
        }
        var now = _clock.Now;
        if (trigger.SettleTimer is null)
        {
            trigger.FirstChange = now;
            trigger.LastChange = now;
            trigger.SettleTimer = _timers.After(trigger.Settle, () => SettleDue(repeat, trigger));
        }
        else
        {
            // The timer is not moved at every event (a burst is thousands): when it comes,
            // it looks at the last change and waits again for what is left.
            trigger.LastChange = now;
        }
    }

    private void SettleDue(Repeat repeat, FileTrigger trigger)
    {
        trigger.SettleTimer = null;
        if (!_repeats.ContainsKey(repeat.Id) || Stopping) return;
        var now = _clock.Now;
        var quietFor = now - trigger.LastChange;
        if (quietFor < trigger.Settle && now - trigger.FirstChange < trigger.MaxDelay)
        {
            var wait = trigger.Settle - quietFor;
            var cap = trigger.FirstChange + trigger.MaxDelay - now;
            trigger.SettleTimer = _timers.After(wait < cap ? wait : cap, () => SettleDue(repeat, trigger));
            return;
        }
        if (repeat.Busy)
        {
            _log.LogDebug("{Repeat}: {Count} changes wait for {Job} to end", repeat.Id, trigger.PendingCount, repeat.LastJob!.Id);
            return;
        }
        FireTrigger(repeat, trigger);
    }

    /// <summary>One firing with everything collected so far (possibly nothing, when the
    /// operator triggers it).</summary>
    private Job? FireTrigger(Repeat repeat, FileTrigger trigger)
    {
        trigger.SettleTimer?.Cancel();
        trigger.SettleTimer = null;
        trigger.RunAfterCurrent = false;
        ChangeBatch batch;
        try
        {
            batch = _watches!.Write(repeat.Script.Relative, trigger.Pending, trigger.Incomplete);
        }
        catch (IOException e)
        {
            // The changes stay collected: the next change or trigger tries again.
            _log.LogError("{Repeat}: cannot write the list of changes ({Error}); not firing", repeat.Id, e.Message);
            return null;
        }
        _log.LogInformation("{Repeat}: {Count} changed paths{Incomplete}", repeat.Id, batch.Count, batch.Incomplete ? " (incomplete)" : "");
        trigger.Clear();
        return Launch(repeat, batch);
    }

    /// <summary>A firing of a file trigger ended: its list goes; what changed meanwhile
    /// (or an operator's trigger) fires once more.</summary>
    private void TriggerRunEnded(Repeat repeat, FileTrigger trigger, Job job)
    {
        if (trigger.Batches.Remove(job, out var batch)) _watches?.Discard(batch);
        // After the end has been handled in full (Finish is deep inside exits and kills).
        _timers.After(TimeSpan.Zero, () => FireAfterRun(repeat, trigger));
    }

    private void FireAfterRun(Repeat repeat, FileTrigger trigger)
    {
        if (!_repeats.ContainsKey(repeat.Id) || Stopping || repeat.Busy) return;
        if (trigger.RunAfterCurrent) FireTrigger(repeat, trigger);
        else if ((trigger.PendingCount > 0 || trigger.Incomplete) && trigger.SettleTimer is null && !repeat.Disabled) FireTrigger(repeat, trigger);
    }

    private static void DropPending(FileTrigger trigger)
    {
        trigger.SettleTimer?.Cancel();
        trigger.SettleTimer = null;
        trigger.RunAfterCurrent = false;
        trigger.Clear();
    }
}
