using System.Text;

namespace Chaqum.Client;

/// <summary>
/// Reads replies from fd 4: lines, and recvmsg's body of known length, through one buffer
/// that serves both (a chunk read for recvmsg's header line may hold the start of its
/// body). A chunk never reaches past the current reply: the daemon writes a reply only
/// when asked, and the next command is sent only after this reply was read.
/// </summary>
internal sealed class ReplyReader(Stream replies)
{
    private const int MaxLine = 16 * 1024 * 1024;
    private readonly byte[] _buffer = new byte[4096];
    private int _start, _end;

    /// <summary>True when bytes were read that no reply has used yet.</summary>
    public bool HasLeftover => _start < _end;

    /// <summary>One line without its LF.</summary>
    public async Task<string> ReadLineAsync()
    {
        var line = new MemoryStream();
        while (true)
        {
            int lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (lf >= 0)
            {
                line.Write(_buffer, _start, lf - _start);
                _start = lf + 1;
                return Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length);
            }
            line.Write(_buffer, _start, _end - _start);
            if (line.Length > MaxLine) throw new ChaqumException("the daemon's reply line is unreasonably long");
            _start = _end = 0;
            await FillAsync(_buffer.Length).ConfigureAwait(false);
        }
    }

    /// <summary>Exactly <paramref name="count"/> bytes.</summary>
    public async Task<byte[]> ReadExactlyAsync(int count)
    {
        var data = new byte[count];
        int have = Math.Min(count, _end - _start);
        Array.Copy(_buffer, _start, data, 0, have);
        _start += have;
        while (have < count)
        {
            int n = await replies.ReadAsync(data.AsMemory(have, count - have)).ConfigureAwait(false);
            if (n == 0) throw Closed();
            have += n;
        }
        return data;
    }

    private async Task FillAsync(int max)
    {
        int n = await replies.ReadAsync(_buffer.AsMemory(0, max)).ConfigureAwait(false);
        if (n == 0) throw Closed();
        _end = n;
    }

    private static ChaqumException Closed() =>
        new("the daemon closed the reply pipe (fd 4) in the middle of an exchange");
}
