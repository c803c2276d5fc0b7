using System.Buffers;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using Chaqum.Control.Messages;
using Microsoft.Extensions.Logging;

namespace Chaqum.Control;

/// <summary>
/// One control connection. Request lines are read (at most 1 MiB each, enforced while
/// reading) and handled one after the other, each on the event loop; every line gets
/// exactly one answer, after any number of events (log -f, run). Reading goes on while a
/// request is in progress, so a client that hangs up is noticed at once and its request
/// (a follow, say) is cancelled.
///
/// What goes out waits in an outbox bounded in size (<see cref="Backlog{T}"/>): a client
/// that stops reading while it follows a chatty job loses the oldest lines, and is told
/// how many, instead of making the daemon hold them all.
/// </summary>
public sealed class ControlSession
{
    /// <summary>What one reader that falls behind may hold in the daemon: about 4 MiB of
    /// output lines (as text in memory), a few seconds of a chatty job's output.</summary>
    public const long MaxBacklog = 4 * 1024 * 1024;
    private static readonly JsonWriterOptions Writing = new() { Encoder = ControlProtocol.Encoder };

    private readonly Socket _socket;
    private readonly ControlRequests _requests;
    private readonly ILogger _log;
    private readonly CancellationToken _stop;
    private readonly Backlog<Outgoing> _outbox = new(MaxBacklog);
    // One line read ahead: enough to notice a hang-up while a request runs, and no more
    // held for a client that sends faster than its requests are answered.
    private readonly Channel<ReadOnlyMemory<byte>> _incoming = Channel.CreateBounded<ReadOnlyMemory<byte>>(1);
    private volatile ControlCall? _current;
    private volatile bool _tooLong;

    public ControlSession(Socket socket, ControlRequests requests, ILogger log, CancellationToken stop)
    {
        _socket = socket;
        _requests = requests;
        _log = log;
        _stop = stop;
    }

    public async Task RunAsync()
    {
        var reading = ReadAsync();
        var writing = WriteAsync();
        try
        {
            await foreach (var line in _incoming.Reader.ReadAllAsync(_stop))
                await HandleAsync(line);
        }
        catch (OperationCanceledException) { }
        finally
        {
            _current?.Cancel();
            _outbox.Complete();
            await writing;
            if (_tooLong) await Farewell.CloseAsync(_socket);
            _socket.Dispose();
            await reading;
        }
    }

    private async Task ReadAsync()
    {
        var reader = new RequestLineReader(_socket, ControlProtocol.MaxRequestBytes);
        try
        {
            while (await reader.ReadLineAsync(_stop) is { } line)
            {
                if (line.Length == 0) continue;
                await _incoming.Writer.WriteAsync(line, _stop);
            }
        }
        catch (RequestTooLongException)
        {
            // Refused as soon as it is too long, then the connection is closed: what
            // follows on it is the rest of that line, not a request.
            _tooLong = true;
            Queue(new Outgoing(0, w => Outgoing.Error(w, 0,
                $"request too long (over {ControlProtocol.MaxRequestBytes / 1024 / 1024} MiB); closing the connection")), 0, false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or ChannelClosedException) { }
        finally
        {
            _incoming.Writer.TryComplete();
            // The client is gone: a follow in progress has nobody to talk to.
            _current?.Cancel();
        }
    }

    private async Task HandleAsync(ReadOnlyMemory<byte> line)
    {
        var request = ControlRequestLine.Parse(line, out long id, out string? error);
        if (request is null)
        {
            var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Queue(new Outgoing(id, w => Outgoing.Error(w, id, error!)) { Written = answered }, 0, false);
            await answered.Task;
            return;
        }
        var call = new ControlCall(request, this);
        _current = call;
        _requests.Dispatch(call);
        await call.Completion;
        _current = null;
    }

    internal void Queue(Outgoing item, long size, bool droppable)
    {
        if (!_outbox.Add(item, size, droppable)) item.Written?.TrySetResult();
    }

    /// <summary>The reader is so far behind that a droppable item of this size would push
    /// older ones out.</summary>
    internal bool Behind(long size) => _outbox.Full(size);

    /// <summary>Droppable items never made: the reader is told with the next one.</summary>
    internal void Skip(long count) => _outbox.Skip(count);

    /// <summary>Writes what the outbox holds, several lines per write while there are
    /// several; a line that lost lines before it is preceded by a {"skipped": N} event.</summary>
    private async Task WriteAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        var written = new List<TaskCompletionSource>();
        using var json = new Utf8JsonWriter(buffer, Writing);
        using var stream = new NetworkStream(_socket, ownsSocket: false);
        try
        {
            while (await _outbox.TakeAsync(CancellationToken.None) is { } taken)
            {
                var (item, skipped) = taken;
                while (true)
                {
                    if (skipped > 0)
                    {
                        long id = item.Id, count = skipped;
                        Line(json, buffer, w => Outgoing.Event(w, id, new ControlEvent { Skipped = count }));
                    }
                    if (item.Big)
                    {
                        await SendAsync(stream, buffer, written);
                        await WriteBigAsync(item);
                    }
                    else Line(json, buffer, item.Write);
                    if (item.Written is { } tcs) written.Add(tcs);
                    if (buffer.WrittenCount >= 64 * 1024 || !_outbox.TryTake(out item, out skipped)) break;
                }
                await SendAsync(stream, buffer, written);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException) { }
        catch (Exception e)
        {
            _log.LogError(e, "control: writing an answer failed");
        }
        finally
        {
            // Nobody reads any more: what waits is never written.
            _outbox.Complete();
            foreach (var t in written) t.TrySetResult();
            foreach (var o in _outbox.Clear()) o.Written?.TrySetResult();
            _current?.Cancel();
            if (!_tooLong) _socket.Dispose();
        }
    }

    private static void Line(Utf8JsonWriter json, ArrayBufferWriter<byte> buffer, Action<Utf8JsonWriter> write)
    {
        json.Reset(buffer);
        write(json);
        json.Flush();
        buffer.Write("\n"u8);
    }

    private static async Task SendAsync(NetworkStream stream, ArrayBufferWriter<byte> buffer, List<TaskCompletionSource> written)
    {
        if (buffer.WrittenCount > 0) await stream.WriteAsync(buffer.WrittenMemory);
        buffer.ResetWrittenCount();
        foreach (var t in written) t.TrySetResult();
        written.Clear();
    }

    /// <summary>A big answer, written as it is made on a thread of its own and flushed to
    /// the socket as it goes. Should it fail half-way, the connection is closed: the client
    /// sees a truncated line, not a wrong one.</summary>
    private Task WriteBigAsync(Outgoing item) => Task.Factory.StartNew(() =>
    {
        using var stream = new NetworkStream(_socket, ownsSocket: false);
        using var writer = new Utf8JsonWriter(stream, Writing);
        item.Write(writer);
        writer.Flush();
        stream.WriteByte((byte)'\n');
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
