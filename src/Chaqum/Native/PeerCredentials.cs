using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>SO_PEERCRED on a connected Unix socket: who is on the other end, as the
/// kernel vouches for it (not as the peer claims).</summary>
internal static class PeerCredentials
{
    private const int SOL_SOCKET = 1;
    private const int SO_PEERCRED = 17;

    [StructLayout(LayoutKind.Sequential)]
    public struct UCred
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    public static UCred? Of(Socket socket)
    {
        Span<byte> buffer = stackalloc byte[Marshal.SizeOf<UCred>()];
        try
        {
            int n = socket.GetRawSocketOption(SOL_SOCKET, SO_PEERCRED, buffer);
            if (n < buffer.Length) return null;
            return MemoryMarshal.Read<UCred>(buffer);
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
