using Chaqum.EventLoop;
using Mono.Unix.Native;

namespace Chaqum.Protocol;

/// <summary>
/// The writing half of a job's connection: replies to the job's fd 4 (our end
/// non-blocking), in order. A job that does not read its replies fills the pipe; what did
/// not fit waits here (one reply, since commands run one at a time) and the connection
/// reads no further command until it is written: that is the back-pressure.
/// </summary>
internal sealed class ReplyWriter : IReadyHandler
{
    private readonly EpollLoop _loop;
    private readonly int _fd;
    private readonly Action _unblocked;
    private long _token;
    private byte[]? _out;             // reply bytes not yet written
    private int _outPos;
    private bool _gone;               // nobody reads fd 4 any more (EPIPE), or closed

    /// <param name="unblocked">Called once a blocked reply has been written whole.</param>
    public ReplyWriter(EpollLoop loop, int fd, Action unblocked)
    {
        _loop = loop;
        _fd = fd;
        _unblocked = unblocked;
    }

    /// <summary>Part of a reply waits for the job to read: write nothing else meanwhile.</summary>
    public bool Blocked => _out is not null;

    public unsafe void Write(byte[] data)
    {
        if (_gone) return;
        if (_out is not null)
        {
            // Only one command is in progress at a time, so this is rare (a refusal
            // racing a blocked reply); keep order by appending.
            var merged = new byte[_out.Length - _outPos + data.Length];
            Buffer.BlockCopy(_out, _outPos, merged, 0, _out.Length - _outPos);
            Buffer.BlockCopy(data, 0, merged, _out.Length - _outPos, data.Length);
            _out = merged;
            _outPos = 0;
            return;
        }
        int pos = 0;
        while (pos < data.Length)
        {
            long n;
            fixed (byte* p = &data[pos]) n = Syscall.write(_fd, p, (ulong)(data.Length - pos));
            if (n > 0) { pos += (int)n; continue; }
            var errno = Stdlib.GetLastError();
            if (errno == Mono.Unix.Native.Errno.EINTR) continue;
            if (errno == Mono.Unix.Native.Errno.EAGAIN)
            {
                _out = data;
                _outPos = pos;
                if (_token == 0)
                    _token = _loop.Add(_fd, EpollEvents.EPOLLOUT | EpollEvents.EPOLLONESHOT, this);
                else
                    _loop.Modify(_fd, EpollEvents.EPOLLOUT | EpollEvents.EPOLLONESHOT, _token);
                return;
            }
            // EPIPE: the job (and everyone holding its fd 4) is gone; replies are moot.
            _gone = true;
            return;
        }
    }

    /// <summary>fd 4 has room again: write what waited, and say so once it is all out.</summary>
    public void OnReady(EpollEvents events)
    {
        var data = _out;
        if (data is null) return;
        _out = null;
        var rest = _outPos == 0 ? data : data[_outPos..];
        _outPos = 0;
        Write(rest);
        if (_out is null) _unblocked();
    }

    public void Close()
    {
        _gone = true;
        _out = null;
        if (_token != 0) _loop.Remove(_fd, _token);
        Syscall.close(_fd);
    }
}
