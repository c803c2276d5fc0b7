using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Chaqum.Tests.Control;

/// <summary>A control connection that sends whatever it is given, as a hostile or broken
/// client would, and reads answer lines with a deadline.</summary>
public sealed class RawControl : IDisposable
{
    private readonly Socket _socket;
    private readonly List<byte> _pending = new();

    public RawControl(string socketPath)
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        {
            ReceiveTimeout = 60_000,
            SendTimeout = 60_000,
        };
        _socket.Connect(new UnixDomainSocketEndPoint(socketPath));
    }

    public void Send(string text) => Send(Encoding.UTF8.GetBytes(text));

    public void Send(byte[] bytes)
    {
        int sent = 0;
        while (sent < bytes.Length) sent += _socket.Send(bytes, sent, bytes.Length - sent, SocketFlags.None);
    }

    /// <summary>The next line, or null at the end of the stream (or a reset after it).</summary>
    public string? ReadLine()
    {
        var buffer = new byte[65536];
        while (true)
        {
            int lf = _pending.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var line = Encoding.UTF8.GetString(_pending.GetRange(0, lf).ToArray());
                _pending.RemoveRange(0, lf + 1);
                return line;
            }
            int n;
            try { n = _socket.Receive(buffer); }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { n = 0; }
            if (n == 0) return null;
            _pending.AddRange(buffer.AsSpan(0, n).ToArray());
        }
    }

    public JsonNode Answer() => JsonNode.Parse(ReadLine() ?? throw new AssertionException("the daemon closed the connection without an answer"))!;

    public void Dispose() => _socket.Dispose();
}
