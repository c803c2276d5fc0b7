using System.Threading.Channels;
using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.Web.Daemon;

namespace Chaqum.Web.Live;

/// <summary>
/// The job pages' live output: one log follow on the daemon per job, however many
/// browsers watch it (ten tabs on a chatty job cost the daemon one follower, not ten),
/// fanned out to a small queue per tab.
///
/// Read at most <see cref="LinesPerSecond"/> lines a second per job: past that, the
/// reader stops reading for the rest of the tenth of a second, the daemon's queue for it
/// fills, and the daemon only counts the lines that come while it is full and says how
/// many ({"skipped": N}), as it does for any slow reader, without making them. So a job that
/// prints a hundred thousand lines a second costs the daemon a bounded trickle and a
/// count, and the browsers a readable stream with "N lines skipped here". A tab that
/// falls behind the stream loses its oldest lines too, and is told how many.
/// </summary>
public sealed class OutputHub(DaemonLink daemon)
{
    public const int LinesPerSecond = 2000;
    private const int TabQueue = 512;
    private readonly Dictionary<string, Feed> _feeds = new(StringComparer.Ordinal);

    /// <summary>A tab's view of the job's new output, until disposed.</summary>
    public sealed class Tab : IDisposable
    {
        private long _dropped;
        internal readonly Channel<LogItem> Queue;
        private readonly Action<Tab> _leave;

        internal Tab(Action<Tab> leave)
        {
            _leave = leave;
            Queue = Channel.CreateBounded<LogItem>(new BoundedChannelOptions(TabQueue) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                dropped => { if (dropped.Line is not null) Interlocked.Increment(ref _dropped); });
        }

        public ChannelReader<LogItem> Reader => Queue.Reader;

        /// <summary>Lines this tab lost since it last asked.</summary>
        public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

        public void Dispose() => _leave(this);
    }

    private sealed class Feed
    {
        public readonly List<Tab> Tabs = new();
        public ControlClient? Client;
        public bool Done;
    }

    public Tab Watch(string id)
    {
        Feed? started = null;
        Tab tab;
        lock (_feeds)
        {
            if (!_feeds.TryGetValue(id, out var feed))
            {
                _feeds[id] = feed = started = new Feed();
            }
            tab = new Tab(t => Leave(id, feed, t));
            feed.Tabs.Add(tab);
        }
        if (started is not null) new Thread(() => Run(id, started)) { IsBackground = true, Name = "chaqum-web output " + id }.Start();
        return tab;
    }

    private void Leave(string id, Feed feed, Tab tab)
    {
        ControlClient? close = null;
        lock (_feeds)
        {
            feed.Tabs.Remove(tab);
            if (feed.Tabs.Count == 0 && !feed.Done)
            {
                // Nobody watches: stop following (the next tab starts afresh).
                feed.Done = true;
                close = feed.Client;
                if (_feeds.GetValueOrDefault(id) == feed) _feeds.Remove(id);
            }
        }
        tab.Queue.Writer.TryComplete();
        close?.Dispose();
    }

    private void Publish(Feed feed, LogItem item, bool last = false)
    {
        lock (_feeds)
            foreach (var tab in feed.Tabs)
            {
                tab.Queue.Writer.TryWrite(item);
                if (last) tab.Queue.Writer.TryComplete();
            }
    }

    private void Run(string id, Feed feed)
    {
        long windowStart = Environment.TickCount64;
        int inWindow = 0;
        const int PerWindow = LinesPerSecond / 10;
        try
        {
            var client = daemon.Connect();
            lock (_feeds)
            {
                if (feed.Done) { client.Dispose(); return; }
                feed.Client = client;
            }
            var end = client.Call(ControlVerbs.Log, new LogArgs { Id = id, Lines = 0, Follow = true }, e =>
            {
                if (e.Skipped is { } n) { Publish(feed, new LogItem(null, n, null)); return; }
                if (e.Line is not { } line) return;
                Publish(feed, new LogItem(line, null, null));
                if (++inWindow < PerWindow) return;
                // Enough for this tenth of a second: stop reading until it is over.
                long now = Environment.TickCount64;
                if (now - windowStart < 100) Thread.Sleep((int)(100 - (now - windowStart)));
                windowStart = Environment.TickCount64;
                inWindow = 0;
            });
            Publish(feed, new LogItem(null, null, end), last: true);
        }
        catch (Exception e) when (e is DaemonDownException or ControlUnavailableException or ControlFailedException or ObjectDisposedException or IOException)
        {
            bool wanted;
            lock (_feeds) wanted = !feed.Done;
            if (wanted) Publish(feed, new LogItem(null, null, null) { Failed = e is ControlFailedException ? e.Message : new DaemonDownException(e.Message).Message }, last: true);
        }
        finally
        {
            lock (_feeds)
            {
                feed.Done = true;
                if (_feeds.GetValueOrDefault(id) == feed) _feeds.Remove(id);
            }
        }
    }
}
