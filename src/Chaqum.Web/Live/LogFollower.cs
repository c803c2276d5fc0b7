using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.Web.Daemon;

namespace Chaqum.Web.Live;

/// <summary>One item of a job's output as the web passes it on: a line, a count of lines
/// skipped (this reader fell behind and the daemon dropped them), or the end.</summary>
public sealed record LogItem(LogLine? Line, long? Skipped, LogEnd? End)
{
    /// <summary>The follow could not go on (no daemon, no such job): why.</summary>
    public string? Failed { get; init; }
}

/// <summary>
/// A job's output from the daemon's log request, as an async stream: the last N lines,
/// then (following) each new one until the job ends. One control connection per reader,
/// read on a thread of its own; between it and the HTTP response sits a small bounded
/// queue that waits when full, so a slow browser stops this reader, which stops reading
/// the socket, and the daemon drops the oldest lines for it and says how many (never
/// slowing the job or holding more than its bound). Ends when the HTTP request does.
/// </summary>
public static class LogFollower
{
    public static async IAsyncEnumerable<LogItem> Follow(DaemonLink daemon, string id, int lines, bool follow,
        [EnumeratorCancellation] CancellationToken cancel)
    {
        var client = daemon.Connect();
        var queue = Channel.CreateBounded<LogItem>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true });
        var reading = Task.Factory.StartNew(() =>
        {
            try
            {
                var end = client.Call(ControlVerbs.Log, new LogArgs { Id = id, Lines = lines, Follow = follow }, e =>
                {
                    var item = e.Line is not null ? new LogItem(e.Line, null, null) : e.Skipped is { } n ? new LogItem(null, n, null) : null;
                    if (item is not null) queue.Writer.WriteAsync(item, cancel).AsTask().GetAwaiter().GetResult();
                });
                queue.Writer.TryWrite(new LogItem(null, null, end));
                queue.Writer.TryComplete();
            }
            catch (Exception e) { queue.Writer.TryComplete(e); }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        using var hangUp = cancel.Register(client.Dispose);
        try
        {
            while (true)
            {
                LogItem? item;
                try
                {
                    if (!await queue.Reader.WaitToReadAsync(cancel)) break;
                    if (!queue.Reader.TryRead(out item)) continue;
                }
                catch (Exception e) when (Unwrap(e) is ControlUnavailableException u) { throw new DaemonDownException(u.Message); }
                catch (Exception e) when (Unwrap(e) is ControlFailedException f) { throw f; }
                yield return item;
            }
        }
        finally
        {
            client.Dispose();
            try { await reading.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None); }
            catch (TimeoutException) { }
        }
    }

    private static Exception Unwrap(Exception e) => e is ChannelClosedException { InnerException: { } inner } ? inner : e;
}
