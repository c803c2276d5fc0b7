using System.Net.Sockets;

namespace Chaqum.Control;

/// <summary>
/// Reads the LF-terminated request lines of one control connection, with the length
/// limit enforced while reading: a line that never ends costs at most the limit, never
/// more (a reader that checks only complete lines holds all of it first, several times
/// over as text).
/// </summary>
internal sealed class RequestLineReader(Socket socket, int maxBytes)
{
    private byte[] _buffer = new byte[16 * 1024];
    private int _start, _end;

    /// <summary>The next line without its LF (a final line without one counts); null at
    /// the end of the stream.</summary>
    /// <exception cref="RequestTooLongException">The line is longer than the limit.</exception>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync(CancellationToken cancel)
    {
        int searched = _start;
        while (true)
        {
            int lf = Array.IndexOf(_buffer, (byte)'\n', searched, _end - searched);
            if (lf >= 0)
            {
                var line = _buffer.AsMemory(_start, lf - _start).ToArray();
                _start = lf + 1;
                return line;
            }
            if (_end - _start > maxBytes) throw new RequestTooLongException();
            searched = _end;
            if (_end == _buffer.Length) MakeRoom(ref searched);
            int n = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancel);
            if (n == 0)
            {
                if (_end == _start) return null;
                var last = _buffer.AsMemory(_start, _end - _start).ToArray();
                _start = _end;
                return last;
            }
            _end += n;
        }
    }

    /// <summary>Moves the unread part to the front, or grows the buffer, never beyond the
    /// limit plus its LF.</summary>
    private void MakeRoom(ref int searched)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            searched -= _start;
            _end -= _start;
            _start = 0;
            return;
        }
        Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, maxBytes + 2));
    }
}

internal sealed class RequestTooLongException() : Exception("request too long");
