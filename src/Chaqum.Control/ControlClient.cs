using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Chaqum.Control;

/// <summary>A connection to a daemon's control socket: send a request, read its events
/// and its answer. Used by chaqumctl (and by tests).</summary>
public sealed class ControlClient : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;
    private long _nextId;

    private ControlClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    /// <exception cref="ControlUnavailableException">Nobody listens there (or we may not connect).</exception>
    public static ControlClient Connect(string socketPath)
    {
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
    }

    /// <summary>Sends a request and returns its answer's result; events go to onEvent.</summary>
    /// <exception cref="ControlFailedException">The daemon answered with an error.</exception>
    public JsonNode Call(string command, JsonObject? args = null, Action<JsonNode>? onEvent = null)
    {
        long id = ++_nextId;
        var request = new ControlRequest { Id = id, Command = command, Args = args ?? new JsonObject() };
        var bytes = Encoding.UTF8.GetBytes(ControlProtocol.Serialize(request) + "\n");
        try { _stream.Write(bytes); }
        catch (IOException e) { throw new ControlUnavailableException(ReasonForHangingUp() ?? $"the daemon hung up: {e.Message}"); }

        while (true)
        {
            string? line;
            try { line = _reader.ReadLine(); }
            catch (IOException e) { throw new ControlUnavailableException($"the daemon hung up: {e.Message}"); }
            if (line is null) throw new ControlUnavailableException("the daemon closed the connection");
            var response = JsonSerializer.Deserialize<ControlResponse>(line, ControlProtocol.Json)
                ?? throw new ControlFailedException("empty answer");
            if (response.Id != id && response.Id != 0) continue;
            if (response.Ok is null && response.Event is not null)
            {
                onEvent?.Invoke(response.Event);
                continue;
            }
            // An error without our id was never our request's answer: the daemon refused the
            // connection (another uid) or could not read what we sent, and hangs up.
            if (response.Ok != true && response.Id == 0) throw new ControlUnavailableException(response.Error ?? "refused");
            if (response.Ok != true) throw new ControlFailedException(response.Error ?? "request failed");
            return response.Result ?? new JsonObject();
        }
    }

    /// <summary>A daemon that refuses a connection says why in one line, then closes it:
    /// the line may still be waiting to be read after our write failed.</summary>
    private string? ReasonForHangingUp()
    {
        try
        {
            return _reader.ReadLine() is { } line ? JsonSerializer.Deserialize<ControlResponse>(line, ControlProtocol.Json)?.Error : null;
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
