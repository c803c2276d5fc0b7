using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Chaqum.Control;
using Chaqum.Web.Daemon;
using Chaqum.Web.Pages;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Chaqum.Web.Live;

/// <summary>
/// Server-Sent Events for the pages' script:
///
/// - /live/events: the daemon's events as they happen (event "change", data the event's
///   JSON), "daemon" (up or down) when it comes or goes, "skipped" when this tab fell
///   behind. From the one shared subscription of <see cref="EventHub"/>.
/// - /live/output/ID: a job's new output lines (event "line", data the lines of the last
///   tenth of a second as the page shows them, one per data line), then "end" with its state. The lines already on the page are not
///   sent again. One daemon follow per job, shared by every tab (<see cref="OutputHub"/>).
///
/// Nothing here polls: an open tab waits on a queue that the daemon's events fill.
/// </summary>
public static class LiveRoutes
{
    public static void MapLive(this WebApplication app)
    {
        var live = app.MapGroup("/live").ExcludeFromDescription();
        live.MapGet("/events", (EventHub hub, IOptions<JsonOptions> json, CancellationToken cancel) =>
            TypedResults.ServerSentEvents(Events(hub, json.Value.SerializerOptions, cancel)));
        live.MapGet("/output/{**id}", (OutputHub hub, string id, CancellationToken cancel) =>
            TypedResults.ServerSentEvents(Output(hub, id, cancel)));
    }

    private static async IAsyncEnumerable<SseItem<string>> Events(EventHub hub, JsonSerializerOptions json, [EnumeratorCancellation] CancellationToken cancel)
    {
        using var subscription = hub.Subscribe();
        while (true)
        {
            EventHub.HubItem item;
            try
            {
                if (!await subscription.Reader.WaitToReadAsync(cancel)) yield break;
                if (!subscription.Reader.TryRead(out item!)) continue;
            }
            catch (OperationCanceledException) { yield break; }
            if (item.Up is { } up) yield return new SseItem<string>(up ? "up" : "down", "daemon");
            if (item.Skipped > 0) yield return new SseItem<string>(item.Skipped.ToString(System.Globalization.CultureInfo.InvariantCulture), "skipped");
            if (item.Change is { } change) yield return new SseItem<string>(JsonSerializer.Serialize(change, json), "change");
        }
    }

    /// <summary>How long a tab's new lines gather before they are sent: one event (one
    /// write, one wake-up of the browser) for all the lines of a tenth of a second, not one
    /// per line, so that ten tabs on a job that prints as fast as it can cost the web a few
    /// hundred writes a second, and the two cores it shares with the daemon stay free.</summary>
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(100);

    private static async IAsyncEnumerable<SseItem<string>> Output(OutputHub hub, string id, [EnumeratorCancellation] CancellationToken cancel)
    {
        using var tab = hub.Watch(id);
        var lines = new System.Text.StringBuilder();
        while (true)
        {
            try
            {
                if (!await tab.Reader.WaitToReadAsync(cancel)) yield break;
                await Task.Delay(Gather, cancel);
            }
            catch (OperationCanceledException) { yield break; }
            if (tab.TakeDropped() is > 0 and var lost)
                yield return new SseItem<string>($"[{lost} lines skipped here: this page fell behind the job's output]", "skipped");
            // Lines go out together as one "line" event whose data has a line per output
            // line (EventSource joins data: lines with LF); anything else goes out in its
            // place, after the lines before it.
            while (tab.Reader.TryRead(out var item))
            {
                if (item.Line is { } line)
                {
                    if (lines.Length > 0) lines.Append('\n');
                    lines.Append(JobPage.OutputLine(line).Value.TrimEnd('\n'));
                    continue;
                }
                if (lines.Length > 0) { yield return new SseItem<string>(lines.ToString(), "line"); lines.Clear(); }
                if (item.Skipped is { } n) yield return new SseItem<string>($"[{n} lines skipped here: the job wrote faster than the page is sent]", "skipped");
                else if (item.End is { } end) yield return new SseItem<string>(end.State is null ? "ended" : $"{end.State}{(end.Status is null ? "" : $" (status {end.Status})")}", "end");
                else if (item.Failed is { } why) { yield return new SseItem<string>(why, "failed"); yield break; }
            }
            if (lines.Length > 0) { yield return new SseItem<string>(lines.ToString(), "line"); lines.Clear(); }
        }
    }
}
