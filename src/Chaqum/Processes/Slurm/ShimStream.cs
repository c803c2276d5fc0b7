using System.Buffers.Binary;
using System.Text;
using Chaqum.EventLoop;
using Mono.Unix.Native;

namespace Chaqum.Processes.Slurm;

/// <summary>
/// The daemon's end of the shim's tunnel: reads srun's stdout, which carries the shim's
/// frames (shim/chaqum-shim: a channel byte, a 4-byte big-endian length, the bytes), and
/// hands each channel on, so that the rest of the daemon sees a Slurm job exactly as a
/// local one: the job's stdout ('1') and its fd-3 commands ('3') are written into two
/// pipes of the daemon's own, read by the usual OutputReader and JobConnection; 'i'
/// (Slurm job id, node and step id) and 'x' (the job's own exit status) are kept here.
///
/// Back-pressure as for a local job: while a pipe is full (a job that pipelines more
/// commands than the connection takes, say), this stops reading srun's stdout, and srun
/// and the shim hold the job back in turn. Nothing is buffered beyond one read.
/// </summary>
public sealed class ShimStream : IReadyHandler
{
    private const int ReadSize = 64 * 1024;
    /// <summary>'i' and 'x' frames are a few words; anything longer is not our shim.</summary>
    private const int MaxControl = 4096;

    private readonly EpollLoop _loop;
    private readonly int _mux;
    private long _muxToken;
    private int _stdout, _commands;
    private readonly byte[] _header = new byte[5];
    private int _headerLength;
    private byte _channel;
    private int _remaining;
    private readonly MemoryStream _control = new();
    private readonly Queue<(int Fd, byte[] Data, int Offset)> _pending = new();
    private Writable? _writable;
    private bool _eof, _paused;

    /// <param name="mux">srun's stdout (read end, non-blocking).</param>
    /// <param name="stdout">where the job's stdout goes (write end, non-blocking).</param>
    /// <param name="commands">where its fd-3 lines go (write end, non-blocking).</param>
    public ShimStream(EpollLoop loop, int mux, int stdout, int commands)
    {
        _loop = loop;
        _mux = mux;
        _stdout = stdout;
        _commands = commands;
        _muxToken = loop.Add(mux, EpollEvents.EPOLLIN, this);
    }

    /// <summary>The shim has started on a node: its Slurm job id, node name and step id
    /// (null from a shim that does not say it).</summary>
    public Action<string, string, string?>? Identified { get; set; }

    /// <summary>"exit N" or "signal N" as the shim reported the job's end; null if it did not.</summary>
    public string? Status { get; private set; }

    /// <summary>Whether the shim said it started (an 'i' frame arrived).</summary>
    public bool Started { get; private set; }

    /// <summary>Set when srun's stdout held something other than frames: the shim is not ours.</summary>
    public string? Garbled { get; private set; }

    public void OnReady(EpollEvents events) => Read(maxReads: 16);

    /// <summary>srun has exited: takes everything it wrote (bounded by the pipe's size),
    /// so that the job's status and its last words are known before its end is.</summary>
    public void Drain()
    {
        Read(int.MaxValue, evenIfPending: true);
        Flush();
    }

    private unsafe void Read(int maxReads, bool evenIfPending = false)
    {
        var buffer = new byte[ReadSize];
        for (int i = 0; i < maxReads && !_eof; i++)
        {
            if (_pending.Count > 0 && !evenIfPending) { Pause(); return; }
            long n;
            fixed (byte* p = buffer) n = Syscall.read(_mux, p, (ulong)buffer.Length);
            if (n > 0) { Parse(buffer.AsSpan(0, (int)n)); continue; }
            // errno read once: Stdlib.GetLastError converts it with a call of its own that
            // clears it, so a second look would see 0 (and take EAGAIN for end of file).
            var errno = n < 0 ? Stdlib.GetLastError() : 0;
            if (errno == Errno.EINTR) continue;
            if (errno == Errno.EAGAIN) break;
            _eof = true;
            if (!_paused) _loop.Remove(_mux, _muxToken);
            Syscall.close(_mux);
        }
        if (_pending.Count > 0) Pause();
        CloseIfDone();
    }

    private void Parse(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (Garbled is not null) { Deliver((byte)'1', data); return; }
            if (_remaining == 0 && _headerLength < 5)
            {
                int take = Math.Min(5 - _headerLength, data.Length);
                data[..take].CopyTo(_header.AsSpan(_headerLength));
                _headerLength += take;
                data = data[take..];
                if (_headerLength < 5) return;
                _channel = _header[0];
                _remaining = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(1)), int.MaxValue);
                if (_channel is not ((byte)'1' or (byte)'3' or (byte)'i' or (byte)'x'))
                {
                    // Not a frame: pass what we have on as output, so that nothing is lost.
                    Garbled = $"srun's stdout is not the shim's frames (byte 0x{_channel:x2}); the rest is logged as the job's output";
                    Deliver((byte)'1', _header);
                    continue;
                }
                if (_remaining == 0) EndFrame();
                continue;
            }
            int chunk = Math.Min(_remaining, data.Length);
            Deliver(_channel, data[..chunk]);
            data = data[chunk..];
            _remaining -= chunk;
            if (_remaining == 0) EndFrame();
        }
    }

    private void EndFrame()
    {
        _headerLength = 0;
        if (_channel is (byte)'1' or (byte)'3') return;
        var words = Encoding.UTF8.GetString(_control.ToArray());
        _control.SetLength(0);
        if (_channel == (byte)'x')
        {
            Status = words;
            return;
        }
        Started = true;
        var parts = words.Split(' ', 3);
        string? step = parts.Length > 2 && parts[2] is { Length: > 0 } s && s != "-" ? s : null;
        Identified?.Invoke(parts[0], parts.Length > 1 ? parts[1] : "", step);
    }

    private void Deliver(byte channel, ReadOnlySpan<byte> data)
    {
        switch (channel)
        {
            case (byte)'1': Write(_stdout, data); break;
            case (byte)'3': Write(_commands, data); break;
            default:
                if (_control.Length + data.Length <= MaxControl) _control.Write(data);
                break;
        }
    }

    private unsafe void Write(int fd, ReadOnlySpan<byte> data)
    {
        if (fd < 0) return;
        if (_pending.Count == 0)
        {
            while (!data.IsEmpty)
            {
                long n;
                fixed (byte* p = data) n = Syscall.write(fd, p, (ulong)data.Length);
                if (n > 0) { data = data[(int)n..]; continue; }
                var errno = n < 0 ? Stdlib.GetLastError() : 0;
                if (errno == Errno.EINTR) continue;
                if (errno == Errno.EAGAIN) break;
                return; // EPIPE: the reader is gone (connection closed); the bytes have nowhere to go
            }
            if (data.IsEmpty) return;
        }
        _pending.Enqueue((fd, data.ToArray(), 0));
    }

    /// <summary>Writes what waits, in order; true when nothing is left.</summary>
    private unsafe bool Flush()
    {
        while (_pending.TryPeek(out var head))
        {
            var (fd, data, offset) = head;
            while (offset < data.Length)
            {
                long n;
                fixed (byte* p = &data[offset]) n = Syscall.write(fd, p, (ulong)(data.Length - offset));
                if (n > 0) { offset += (int)n; continue; }
                var errno = n < 0 ? Stdlib.GetLastError() : 0;
                if (errno == Errno.EINTR) continue;
                if (errno == Errno.EAGAIN)
                {
                    _pending.Dequeue();
                    var rest = new Queue<(int, byte[], int)>(_pending);
                    _pending.Clear();
                    _pending.Enqueue((fd, data, offset));
                    foreach (var item in rest) _pending.Enqueue(item);
                    Watch(fd);
                    return false;
                }
                offset = data.Length; // EPIPE: dropped
            }
            _pending.Dequeue();
        }
        Unwatch();
        CloseIfDone();
        return true;
    }

    private void Pause()
    {
        if (_pending.TryPeek(out var head)) Watch(head.Fd);
        if (_paused || _eof) return;
        _paused = true;
        // Out of epoll altogether: with no events asked for, a hang-up would still be
        // reported, again and again, while we cannot act on it.
        _loop.Remove(_mux, _muxToken);
    }

    private void Resume()
    {
        if (!_paused || _eof) return;
        _paused = false;
        _muxToken = _loop.Add(_mux, EpollEvents.EPOLLIN, this);
    }

    private void Watch(int fd)
    {
        if (_writable?.Fd == fd) return;
        Unwatch();
        _writable = new Writable(this, fd);
        _writable.Token = _loop.Add(fd, EpollEvents.EPOLLOUT, _writable);
    }

    private void Unwatch()
    {
        if (_writable is null) return;
        _loop.Remove(_writable.Fd, _writable.Token);
        _writable = null;
    }

    private void OnWritable()
    {
        if (Flush()) Resume();
    }

    /// <summary>At end of srun's stdout, once all is written: the job's stdout and fd 3
    /// reach end of file for their readers.</summary>
    private void CloseIfDone()
    {
        if (!_eof || _pending.Count > 0) return;
        Unwatch();
        if (_stdout >= 0) Syscall.close(_stdout);
        if (_commands >= 0) Syscall.close(_commands);
        _stdout = _commands = -1;
    }

    /// <summary>Daemon shutdown: stops reading and closes everything.</summary>
    public void Shutdown()
    {
        _pending.Clear();
        if (!_eof)
        {
            _eof = true;
            if (!_paused) _loop.Remove(_mux, _muxToken);
            Syscall.close(_mux);
        }
        CloseIfDone();
    }

    private sealed class Writable(ShimStream owner, int fd) : IReadyHandler
    {
        public int Fd { get; } = fd;
        public long Token { get; set; }
        public void OnReady(EpollEvents events) => owner.OnWritable();
    }
}
