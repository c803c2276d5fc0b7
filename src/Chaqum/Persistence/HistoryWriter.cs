using System.Collections.Concurrent;
using Chaqum.History;
using Microsoft.Extensions.Logging;

namespace Chaqum.Persistence;

/// <summary>
/// Writes the history off the event loop: the loop only enqueues records (no I/O on the
/// spawn or exit path); a background thread writes them in batches, one transaction per
/// batch, at most every <see cref="BatchDelay"/>. If the disk is full or the state
/// directory unwritable, the problem is logged once, records are kept in memory (up to a
/// bound) and written again later; jobs are never held up by the history.
///
/// <see cref="WrittenRuns"/> counts the runs on disk, in the order they were handed in:
/// the live journal keeps every run beyond that count, so a run the history has not
/// taken yet (a crash, or a full disk at a clean stop) is recorded by the next start.
/// </summary>
public sealed class HistoryWriter : IDisposable
{
    public static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(100);
    private const int MaxPending = 200_000;

    private readonly string _stateDir;
    private readonly ILogger _log;
    private readonly TimeSpan _retention;
    private readonly ConcurrentQueue<object> _queue = new();
    // Spin count 0: this thread waits most of its life, and should block at once. Spinning
    // first (BlockingCollection's and the default events' sched_yield loops, 20 and more
    // per wait by strace) took the CPU from the event loop while the daemon started on a
    // busy machine.
    private readonly ManualResetEventSlim _arrived = new(false, 0);
    private readonly ManualResetEventSlim _wake = new(false, 0);
    private volatile bool _completed;
    private readonly Thread _thread;
    private HistoryStore? _store;
    private string? _lastError;
    private DateTimeOffset _nextPrune;

    private long _writtenRuns;

    public HistoryWriter(string stateDir, TimeSpan retention, ILogger log)
    {
        _stateDir = stateDir;
        _retention = retention;
        _log = log;
        _thread = new Thread(Run) { Name = "chaqum-history", IsBackground = true };
        _thread.Start();
    }

    /// <summary>A plan has ended: its record goes with the next batch.</summary>
    public void PlanEnded(PlanRecord plan)
    {
        _queue.Enqueue(plan);
        _arrived.Set();
    }

    public void Ended(RunRecord run)
    {
        _queue.Enqueue(run);
        _arrived.Set();
    }

    /// <summary>How many of the runs handed to <see cref="Ended"/> are on disk (or were
    /// given up): the first this many, in order. Read from any thread.</summary>
    public long WrittenRuns => Interlocked.Read(ref _writtenRuns);

    /// <summary>Blocks until everything queued so far is on disk (or has failed).</summary>
    public void Flush(TimeSpan timeout)
    {
        var done = new ManualResetEventSlim();
        _queue.Enqueue(done);
        _arrived.Set();
        _wake.Set();
        done.Wait(timeout);
    }

    private void Run()
    {
        var runs = new List<RunRecord>();
        var plans = new List<PlanRecord>();
        var flushed = new List<ManualResetEventSlim>();
        while (Next() is { } first)
        {
            Add(first);
            // Gather what arrives shortly after: one transaction for a burst. Sleep through
            // the window instead of waiting on the queue for each record: a wake-up per
            // record (and the spinning before each wait) cost more CPU than the writing.
            if (flushed.Count == 0 && _queue.Count < 5000) _wake.Wait(BatchDelay);
            _wake.Reset();
            while (runs.Count < 5000 && _queue.TryDequeue(out var next)) Add(next);
            if (Write(runs, plans))
            {
                plans.Clear();
                Interlocked.Add(ref _writtenRuns, runs.Count);
                runs.Clear();
            }
            else if (runs.Count > MaxPending)
            {
                _log.LogError("history: dropping {Count} unwritten runs", runs.Count - MaxPending);
                Interlocked.Add(ref _writtenRuns, runs.Count - MaxPending);
                runs.RemoveRange(0, runs.Count - MaxPending);
            }
            foreach (var f in flushed) f.Set();
            flushed.Clear();
            PruneIfDue();
        }
        // Stopping: one last try for what a failing disk held back (the live journal keeps
        // whatever still fails).
        if ((runs.Count > 0 || plans.Count > 0) && Write(runs, plans)) Interlocked.Add(ref _writtenRuns, runs.Count);

        // The next record, once there is one; null once Dispose has been called and
        // everything before it taken. Reset before looking, so a record added between the
        // look and the wait sets the event again.
        object? Next()
        {
            while (true)
            {
                _arrived.Reset();
                if (_queue.TryDequeue(out var item)) return item;
                if (_completed) return null;
                _arrived.Wait();
            }
        }

        void Add(object item)
        {
            switch (item)
            {
                case RunRecord r: runs.Add(r); break;
                case PlanRecord p: plans.Add(p); break;
                case ManualResetEventSlim f: flushed.Add(f); break;
            }
        }
    }

    private bool Write(List<RunRecord> runs, List<PlanRecord> plans)
    {
        try
        {
            _store ??= HistoryStore.Open(_stateDir);
            _store!.Write(runs);
            _store.WritePlans(plans);
            if (_lastError is not null)
            {
                _log.LogInformation("history: writing again ({Count} runs caught up)", runs.Count);
                _lastError = null;
            }
            return true;
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            if (_lastError != e.Message)
                _log.LogError("history: cannot write to {Dir}: {Error}; will retry", _stateDir, e.Message);
            _lastError = e.Message;
            _store?.Dispose();
            _store = null;
            Thread.Sleep(1000);
            return false;
        }
    }

    private void PruneIfDue()
    {
        var now = DateTimeOffset.Now;
        if (now < _nextPrune || _store is null) return;
        _nextPrune = now.AddHours(6);
        try
        {
            int removed = _store.Prune(now - _retention);
            if (removed > 0) _log.LogInformation("history: removed {Count} runs older than {Days} days", removed, _retention.TotalDays);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            _log.LogWarning("history: pruning failed: {Error}", e.Message);
        }
    }

    public void Dispose()
    {
        _completed = true;
        _arrived.Set();
        _wake.Set();
        // Not joined in time: the thread still uses the store (and the process exits soon).
        if (_thread.Join(TimeSpan.FromSeconds(10))) _store?.Dispose();
    }
}
