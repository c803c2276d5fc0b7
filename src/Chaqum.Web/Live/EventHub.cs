using System.Threading.Channels;
using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.Web.Daemon;

namespace Chaqum.Web.Live;

/// <summary>
/// One events subscription to the daemon, shared by every browser tab and by the
/// metrics: the daemon has one more subscriber however many tabs are open. Each tab gets
/// a small queue of its own; a tab that falls behind loses the oldest events and is told
/// to reload (its page is stale anyway).
///
/// When there is no daemon (not started yet, restarted), the hub says so to the tabs
/// ("down") and tries again every few seconds; that is the only waiting it does, and only
/// while the daemon is away.
/// </summary>
public sealed class EventHub(DaemonLink daemon, ILogger<EventHub> log) : BackgroundService
{
    /// <summary>What a tab receives: a daemon event, or the daemon's coming and going.</summary>
    public sealed record HubItem(DaemonEvent? Change, bool? Up, long Skipped = 0);

    private readonly List<Channel<HubItem>> _tabs = new();
    private readonly List<Action<DaemonEvent>> _listeners = new();
    private volatile bool _up;

    public static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);

    public bool DaemonUp => _up;

    /// <summary>For in-process consumers (metrics): called on the hub's thread.</summary>
    public void Listen(Action<DaemonEvent> listener)
    {
        lock (_listeners) _listeners.Add(listener);
    }

    /// <summary>A queue of this tab's events, until it is disposed (the tab went away).</summary>
    public Subscription Subscribe()
    {
        var channel = Channel.CreateBounded<HubItem>(new BoundedChannelOptions(512) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_tabs) _tabs.Add(channel);
        channel.Writer.TryWrite(new HubItem(null, _up));
        return new Subscription(channel.Reader, () => { lock (_tabs) _tabs.Remove(channel); channel.Writer.TryComplete(); });
    }

    public sealed class Subscription(ChannelReader<HubItem> reader, Action dispose) : IDisposable
    {
        public ChannelReader<HubItem> Reader { get; } = reader;
        public void Dispose() => dispose();
    }

    private void Publish(HubItem item)
    {
        lock (_tabs) foreach (var tab in _tabs) tab.Writer.TryWrite(item);
    }

    protected override Task ExecuteAsync(CancellationToken stop) => Task.Factory.StartNew(() =>
    {
        while (!stop.IsCancellationRequested)
        {
            ControlClient? client = null;
            try
            {
                client = daemon.Connect();
                using var hangUp = stop.Register(client.Dispose);
                // Subscribed once the daemon has the request; tell the tabs it is there.
                SetUp(true);
                client.Call(ControlVerbs.Events, new EventsArgs(), e =>
                {
                    if (e.Change is { } change)
                    {
                        Publish(new HubItem(change, null));
                        lock (_listeners) foreach (var l in _listeners) l(change);
                    }
                    else if (e.Skipped is { } n) Publish(new HubItem(null, null, n));
                });
            }
            catch (DaemonDownException) { }
            catch (Exception e) when (e is ControlUnavailableException or ControlFailedException or ObjectDisposedException or IOException)
            {
                if (!stop.IsCancellationRequested) log.LogDebug("events: {Reason}", e.Message);
            }
            finally { client?.Dispose(); }
            SetUp(false);
            stop.WaitHandle.WaitOne(Retry);
        }
    }, stop, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void SetUp(bool up)
    {
        if (_up == up) return;
        _up = up;
        Publish(new HubItem(null, up));
        log.LogInformation(up ? "events: following the daemon" : "events: the daemon is not running; trying again every {Seconds}s", Retry.TotalSeconds);
    }
}
