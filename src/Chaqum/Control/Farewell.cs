using System.Net.Sockets;

namespace Chaqum.Control;

/// <summary>Closing a connection whose last answer says why. Closing with the client's
/// data unread would reset the connection and could destroy that answer before it is
/// read: say we are done, discard what still comes for a moment, then close.</summary>
internal static class Farewell
{
    public static async Task CloseAsync(Socket client)
    {
        try
        {
            client.Shutdown(SocketShutdown.Send);
            using var drained = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var buffer = new byte[4096];
            while (await client.ReceiveAsync(buffer, SocketFlags.None, drained.Token) > 0) { }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        finally { client.Dispose(); }
    }
}
