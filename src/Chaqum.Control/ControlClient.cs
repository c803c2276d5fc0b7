using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Chaqum.Control.Messages;

namespace Chaqum.Control;

/// <summary>A connection to a daemon's control socket: send a request, read its events
/// and its answer, as the request's own types (<see cref="ControlVerbs"/>). Used by
/// chaqumctl (and by tests).</summary>
public sealed class ControlClient : IDisposable
{
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;
    private long _nextId;

    private ControlClient(Socket socket)
    {
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    /// <exception cref="ControlUnavailableException">Nobody listens there (or we may not connect).</exception>
    public static ControlClient Connect(string socketPath)
    {
        // sun_path holds 107 bytes and a NUL: a longer path cannot name a socket at all.
        if (Encoding.UTF8.GetByteCount(socketPath) > 107)
            throw new ControlUnavailableException($"{socketPath}: socket path too long (at most 107 bytes; use a shorter path or a symlink to its directory)");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return new ControlClient(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            string why = e.SocketErrorCode switch
            {
                SocketError.AddressNotAvailable or SocketError.ConnectionRefused => "no daemon is listening",
                SocketError.AccessDenied => "permission denied",
                _ => e.Message,
            };
            if (!File.Exists(socketPath) && e.SocketErrorCode != SocketError.AccessDenied) why = "no such socket (is the daemon running?)";
            throw new ControlUnavailableException($"{socketPath}: {why}");
        }
        catch (ArgumentException e)
        {
            socket.Dispose();
            throw new ControlUnavailableException($"{socketPath}: {e.Message}");
        }
    }

    /// <summary>Sends a request and returns its answer's result; events go to onEvent.</summary>
    /// <exception cref="ControlFailedException">The daemon answered with an error.</exception>
    /// <exception cref="ControlUnavailableException">The daemon could not be talked to.</exception>
    public TResult Call<TArgs, TResult>(ControlVerb<TArgs, TResult> verb, TArgs args, Action<ControlEvent>? onEvent = null)
    {
        long id = ++_nextId;
        var request = new ControlRequest { Id = id, Command = verb.Name, Args = JsonSerializer.SerializeToElement(args, verb.Args) };
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(request, ControlJson.Line.ControlRequest) + "\n");
        try { _stream.Write(bytes); }
        catch (IOException e) { throw new ControlUnavailableException(ReasonForHangingUp() ?? $"the daemon hung up: {e.Message}"); }

        while (true)
        {
            string? line;
            try { line = _reader.ReadLine(); }
            catch (IOException e) { throw new ControlUnavailableException($"the daemon hung up: {e.Message}"); }
            if (line is null) throw new ControlUnavailableException("the daemon closed the connection");
            var response = Read(line, ControlJson.Default.ControlResponse) ?? throw new ControlFailedException("empty answer");
            if (response.Id != id && response.Id != 0) continue;
            if (response.IsEvent)
            {
                if (onEvent is not null && Read(response.Event!.Value, ControlJson.Default.ControlEvent) is { } e) onEvent(e);
                continue;
            }
            // An error without our id was never our request's answer: the daemon refused the
            // connection (another uid) or could not read what we sent, and hangs up.
            if (response.Ok != true && response.Id == 0) throw new ControlUnavailableException(response.Error ?? "refused");
            if (response.Ok != true) throw new ControlFailedException(response.Error ?? "request failed");
            return (response.Result is { } result ? Read(result, verb.Result) : default)
                ?? throw new ControlFailedException($"{verb.Name}: the daemon's answer has no result");
        }
    }

    public TResult Call<TResult>(ControlVerb<NoArgs, TResult> verb) => Call(verb, new NoArgs());

    /// <summary>An answer we cannot read is the daemon's mistake (or another program's on
    /// the socket): a sentence, not a trace.</summary>
    private static T? Read<T>(string line, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try { return JsonSerializer.Deserialize(line, type); }
        catch (JsonException e) { throw new ControlFailedException($"cannot read the daemon's answer: {e.Message}"); }
    }

    private static T? Read<T>(JsonElement element, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try { return element.Deserialize(type); }
        catch (JsonException e) { throw new ControlFailedException($"cannot read the daemon's answer: {e.Message}"); }
    }

    /// <summary>A daemon that refuses a connection says why in one line, then closes it:
    /// the line may still be waiting to be read after our write failed.</summary>
    private string? ReasonForHangingUp()
    {
        try
        {
            return _reader.ReadLine() is { } line ? JsonSerializer.Deserialize(line, ControlJson.Default.ControlResponse)?.Error : null;
        }
        catch (Exception e) when (e is IOException or JsonException) { return null; }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
    }
}

public sealed class ControlUnavailableException(string message) : Exception(message);
public sealed class ControlFailedException(string message) : Exception(message);
