using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Chaqum.Control;

/// <summary>
/// One chaqumctl connection. Requests are read as JSON lines and handled one after the
/// other (each on the event loop); a request answers once, after any number of events
/// (log -f, run). Reading goes on while a request is in progress, so a client that hangs
/// up is noticed at once and its request (a follow, say) is cancelled.
/// </summary>
public sealed class ControlSession
{
    private const int MaxRequestBytes = 1024 * 1024;
    private readonly Socket _socket;
    private readonly ControlRequests _requests;
    private readonly ILogger _log;
    private readonly CancellationToken _stop;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Channel<string> _incoming = Channel.CreateBounded<string>(16);
    private ControlCall? _current;

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
        try
        {
            await foreach (var line in _incoming.Reader.ReadAllAsync(_stop))
                await HandleAsync(line);
        }
        catch (OperationCanceledException) { }
        finally
        {
            _current?.Cancel();
            _socket.Dispose();
            await reading;
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            using var stream = new NetworkStream(_socket, ownsSocket: false);
            using var reader = new StreamReader(stream, new UTF8Encoding(false), false, 65536);
            while (await reader.ReadLineAsync(_stop) is { } line)
            {
                if (line.Length > MaxRequestBytes) { await SendAsync(new ControlResponse { Ok = false, Error = "request too long" }); break; }
                if (line.Length == 0) continue;
                await _incoming.Writer.WriteAsync(line, _stop);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException) { }
        finally
        {
            _incoming.Writer.TryComplete();
            // The client is gone: a follow in progress has nobody to talk to.
            _current?.Cancel();
        }
    }

    private async Task HandleAsync(string line)
    {
        ControlRequest? request;
        try { request = JsonSerializer.Deserialize<ControlRequest>(line, ControlProtocol.Json); }
        catch (JsonException e)
        {
            await SendAsync(new ControlResponse { Ok = false, Error = $"bad request: {e.Message}" });
            return;
        }
        if (request is null) return;
        if (request.Version != ControlProtocol.Version)
        {
            await SendAsync(new ControlResponse { Id = request.Id, Ok = false, Error = $"unsupported protocol version {request.Version} (this daemon speaks {ControlProtocol.Version})" });
            return;
        }
        var call = new ControlCall(request, this);
        _current = call;
        _requests.Dispatch(call);
        await call.Completion;
        _current = null;
    }

    /// <summary>A successful answer whose result is written straight to the socket as it
    /// is made, on a thread of its own: a ps of 300 000 jobs is 130 MB of JSON, which as a
    /// JsonNode tree and then a string took gigabytes. The writer is flushed to the socket
    /// every 64 KiB. Should writing the result fail half-way, the connection is closed:
    /// the client sees a truncated line, not a wrong one.</summary>
    internal async Task SendStreamedAsync(long id, Action<Utf8JsonWriter> writeResult)
    {
        await _writeLock.WaitAsync();
        try
        {
            await Task.Factory.StartNew(() =>
            {
                using var stream = new NetworkStream(_socket, ownsSocket: false);
                using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = ControlProtocol.Json.Encoder });
                writer.WriteStartObject();
                writer.WriteNumber("v", ControlProtocol.Version);
                writer.WriteNumber("id", id);
                writer.WriteBoolean("ok", true);
                writer.WritePropertyName("result");
                writeResult(writer);
                writer.WriteEndObject();
                writer.Flush();
                stream.WriteByte((byte)'\n');
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException) { }
        catch (Exception e)
        {
            _log.LogError(e, "control: writing the answer to request {Id} failed", id);
            _socket.Dispose();
        }
        finally { _writeLock.Release(); }
    }

    internal async Task SendAsync(ControlResponse response)
    {
        var bytes = Encoding.UTF8.GetBytes(ControlProtocol.Serialize(response) + "\n");
        await _writeLock.WaitAsync();
        try { await _socket.SendAsync(bytes, SocketFlags.None); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        finally { _writeLock.Release(); }
    }
}

/// <summary>One request in progress: answers once (Reply or Fail), may send events before.
/// Safe to call from the loop thread; the writes happen on the session's side.</summary>
public sealed class ControlCall
{
    private readonly ControlSession _session;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action? _onCancel;
    private Task _sending = Task.CompletedTask;
    private readonly object _order = new();

    internal ControlCall(ControlRequest request, ControlSession session)
    {
        Request = request;
        _session = session;
    }

    public ControlRequest Request { get; }
    public bool Finished { get; private set; }
    /// <summary>Runs an action on the event loop (set by the dispatcher).</summary>
    internal Action<Action>? Post { get; set; }
    internal Task Completion => _done.Task;

    public void Event(JsonNode payload) => Send(new ControlResponse { Id = Request.Id, Event = payload }, final: false);

    public void Reply(JsonNode? result = null) =>
        Send(new ControlResponse { Id = Request.Id, Ok = true, Result = result ?? new JsonObject() }, final: true);

    /// <summary>Answers with a result written by writeResult (one JSON value), on a thread
    /// of its own and straight to the socket: for answers too big to build as a tree. The
    /// writer must read only what it was given, never loop state.</summary>
    public void ReplyStreamed(Action<Utf8JsonWriter> writeResult) =>
        Send(() => _session.SendStreamedAsync(Request.Id, writeResult), final: true);

    public void Fail(string error) => Send(new ControlResponse { Id = Request.Id, Ok = false, Error = error }, final: true);

    /// <summary>What to undo (a follow, a timer) if the client goes away first.</summary>
    public void OnCancel(Action undo) => _onCancel = undo;

    private void Send(ControlResponse response, bool final) => Send(() => _session.SendAsync(response), final);

    private void Send(Func<Task> send, bool final)
    {
        lock (_order)
        {
            if (Finished) return;
            if (final) Finished = true;
            // Chain the sends so events and the final answer leave in order.
            var previous = _sending;
            _sending = previous.ContinueWith(_ => send()).Unwrap();
            if (final) _sending.ContinueWith(_ => _done.TrySetResult());
        }
    }

    internal void Cancel()
    {
        Action? undo;
        lock (_order)
        {
            if (Finished) return;
            Finished = true;
            undo = _onCancel;
            _onCancel = null;
        }
        // The undo touches loop state: run it there.
        if (undo is not null) (Post ?? (a => a()))(undo);
        _done.TrySetResult();
    }
}
