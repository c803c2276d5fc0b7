using System.Buffers.Binary;
using System.Text;
using Chaqum.EventLoop;
using Chaqum.Native;
using Chaqum.Scheduling;
using Chaqum.Scheduling.Repeats;
using Microsoft.Extensions.Logging;

namespace Chaqum.Triggers;

/// <summary>
/// File triggers on inotify. One inotify descriptor for the whole daemon (made on the first
/// trigger, so a tree without any has none), read by the event loop when it is readable:
/// no thread per watch, no polling. A directory watched by several triggers has one kernel
/// watch, shared; each trigger (a <see cref="Subscription"/>) knows which watches are its
/// own and whether it follows new subdirectories (-W).
///
/// What is reported: a file written and closed (IN_CLOSE_WRITE) or moved in
/// (IN_MOVED_TO), as an absolute path. A recursive trigger also hears of new directories
/// (IN_CREATE with IN_ISDIR): it watches them and reports the files already in them,
/// since those may have been written before the watch existed. When the kernel's queue
/// overflows (IN_Q_OVERFLOW) every trigger is told its list is incomplete.
/// </summary>
public sealed class InotifyWatches : IFileWatches, IReadyHandler, IDisposable
{
    private const uint Base = Inotify.IN_CLOSE_WRITE | Inotify.IN_MOVED_TO | Inotify.IN_ONLYDIR | Inotify.IN_EXCL_UNLINK;

    private readonly EpollLoop _loop;
    private readonly ILogger _log;
    private readonly ChangeFiles _files;
    private readonly Dictionary<int, Watched> _byWd = new();
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _fd = -1;
    private long _token;

    public InotifyWatches(EpollLoop loop, ChangeFiles files, ILogger log)
    {
        _loop = loop;
        _files = files;
        _log = log;
    }

    /// <summary>One kernel watch: the directory it was made for and who listens.</summary>
    private sealed class Watched(int wd, string path)
    {
        public int Wd { get; } = wd;
        public string Path { get; } = path;
        public uint Mask { get; set; }
        public Dictionary<Subscription, bool> Listeners { get; } = new();
    }

    /// <summary>One trigger's watches; bool: new subdirectories are followed.</summary>
    private sealed class Subscription(InotifyWatches owner, string repeatId, IFileWatchListener listener) : IFileWatch
    {
        public string RepeatId { get; } = repeatId;
        public IFileWatchListener Listener { get; } = listener;
        public HashSet<int> Wds { get; } = new();
        public bool Closed { get; private set; }

        public void Close()
        {
            if (Closed) return;
            Closed = true;
            owner.Release(this);
        }
    }

    public IFileWatch Watch(string repeatId, IReadOnlyList<WatchedPath> paths, IFileWatchListener listener)
    {
        foreach (var p in paths)
        {
            if (!Directory.Exists(p.Path))
                throw new SchedulingException(File.Exists(p.Path)
                    ? $"{p.Path} is not a directory (watch the directory the file is in)"
                    : $"no such directory: {p.Path}");
        }
        EnsureOpen();
        var sub = new Subscription(this, repeatId, listener);
        try
        {
            foreach (var p in paths)
            {
                if (Add(sub, p.Path, p.Recursive, follow: true) is { } error) throw new SchedulingException(error);
                if (p.Recursive) AddBelow(sub, p.Path, report: false);
            }
        }
        catch
        {
            sub.Close();
            throw;
        }
        return sub;
    }

    private void EnsureOpen()
    {
        if (_fd >= 0) return;
        try { _fd = Inotify.Create(); }
        catch (IOException e) { throw new SchedulingException($"cannot watch files: {e.Message}"); }
        _token = _loop.Add(_fd, Mono.Unix.Native.EpollEvents.EPOLLIN, this);
    }

    /// <summary>Watches one directory for a subscription; the reason when it cannot.</summary>
    private string? Add(Subscription sub, string dir, bool recursive, bool follow)
    {
        uint mask = Base | (recursive ? Inotify.IN_CREATE : 0) | (follow ? 0 : Inotify.IN_DONT_FOLLOW);
        int wd = Inotify.AddWatch(_fd, dir, mask);
        if (wd >= 0 && _byWd.TryGetValue(wd, out var known) && (known.Mask | mask) != mask)
        {
            // Shared with another trigger that asked for more (IN_CREATE): keep the union,
            // since adding a watch replaces the kernel's mask.
            mask |= known.Mask;
            wd = Inotify.AddWatch(_fd, dir, mask);
        }
        if (wd < 0) return Describe(-wd, dir);
        if (!_byWd.TryGetValue(wd, out var watched)) _byWd[wd] = watched = new Watched(wd, dir);
        watched.Mask = mask;
        watched.Listeners[sub] = recursive || (watched.Listeners.TryGetValue(sub, out var r) && r);
        sub.Wds.Add(wd);
        return null;
    }

    private static string Describe(int errno, string dir) => errno switch
    {
        Inotify.ENOSPC => $"cannot watch {dir}: no inotify watches left (raise fs.inotify.max_user_watches, now {MaxUserWatches()})",
        Errno.ENOENT => $"no such directory: {dir}",
        Inotify.ENOTDIR => $"{dir} is not a directory",
        _ => $"cannot watch {dir}: {Errno.Text(errno)}",
    };

    private static string MaxUserWatches()
    {
        try { return File.ReadAllText("/proc/sys/fs/inotify/max_user_watches").Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "unknown"; }
    }

    /// <summary>Watches every directory below dir (not following symbolic links); reports
    /// the files found when they may have been written before the watch came.</summary>
    private void AddBelow(Subscription sub, string dir, bool report)
    {
        var pending = new Stack<string>();
        pending.Push(dir);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            IEnumerable<FileSystemInfo> entries;
            try { entries = new DirectoryInfo(current).EnumerateFileSystemInfos().ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.LogWarning("{Repeat}: cannot read {Dir}: {Error}", sub.RepeatId, current, e.Message);
                continue;
            }
            foreach (var entry in entries)
            {
                bool link;
                // Gone (or changed) since the listing: data comes and goes; skip it.
                try { link = entry.LinkTarget is not null; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
                if (entry is DirectoryInfo && !link)
                {
                    if (Add(sub, entry.FullName, recursive: true, follow: false) is { } error)
                    {
                        // Later directories are data arriving: log, never refuse or crash.
                        _log.LogWarning("{Repeat}: {Error}; changes below it are not seen", sub.RepeatId, error);
                        continue;
                    }
                    pending.Push(entry.FullName);
                }
                else if (report && entry is FileInfo)
                {
                    sub.Listener.Changed(entry.FullName);
                }
            }
        }
    }

    private void Release(Subscription sub)
    {
        foreach (var wd in sub.Wds)
        {
            if (!_byWd.TryGetValue(wd, out var watched)) continue;
            watched.Listeners.Remove(sub);
            if (watched.Listeners.Count > 0) continue;
            _byWd.Remove(wd);
            Inotify.RemoveWatch(_fd, wd);
        }
        sub.Wds.Clear();
    }

    public void OnReady(Mono.Unix.Native.EpollEvents events)
    {
        int n;
        while ((n = Inotify.Read(_fd, _buffer)) > 0) Dispatch(n);
    }

    private void Dispatch(int length)
    {
        var span = _buffer.AsSpan(0, length);
        int at = 0;
        while (at + Inotify.HeaderSize <= length)
        {
            int wd = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
            uint mask = BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 4)..]);
            int nameLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 12)..]);
            var nameBytes = span.Slice(at + Inotify.HeaderSize, nameLength);
            int nul = nameBytes.IndexOf((byte)0);
            string? name;
            try { name = StrictUtf8.GetString(nul < 0 ? nameBytes : nameBytes[..nul]); }
            catch (DecoderFallbackException) { name = null; }
            at += Inotify.HeaderSize + nameLength;
            Handle(wd, mask, name);
        }
    }

    /// <summary>Names are bytes; one that is not UTF-8 would be listed as a different name
    /// (U+FFFD in place of its bytes), so it is not listed at all.</summary>
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private void Handle(int wd, uint mask, string? name)
    {
        if ((mask & Inotify.IN_Q_OVERFLOW) != 0)
        {
            foreach (var sub in _byWd.Values.SelectMany(w => w.Listeners.Keys).Distinct().ToList()) sub.Listener.Overflowed();
            return;
        }
        if (!_byWd.TryGetValue(wd, out var watched)) return;
        if ((mask & Inotify.IN_IGNORED) != 0)
        {
            // The directory was removed (or its file system unmounted).
            _byWd.Remove(wd);
            foreach (var sub in watched.Listeners.Keys)
            {
                sub.Wds.Remove(wd);
                _log.LogWarning("{Repeat}: watched directory {Dir} is gone; changes in it are no longer seen", sub.RepeatId, watched.Path);
            }
            return;
        }
        if (name is null)
        {
            // A file written or moved in, or a directory made (a recursive watch would have
            // followed it): either way the job must rescan.
            foreach (var sub in watched.Listeners.Keys.ToList()) if (!sub.Closed) sub.Listener.Unlistable(watched.Path);
            return;
        }
        string path = watched.Path == "/" ? "/" + name : watched.Path + "/" + name;
        bool isDir = (mask & Inotify.IN_ISDIR) != 0;
        foreach (var (sub, recursive) in watched.Listeners.ToList())
        {
            if (sub.Closed) continue;
            if (isDir)
            {
                if (recursive)
                {
                    if (Add(sub, path, recursive: true, follow: false) is { } error)
                        _log.LogWarning("{Repeat}: {Error}; changes below it are not seen", sub.RepeatId, error);
                    else
                        AddBelow(sub, path, report: true);
                }
                else if ((mask & Inotify.IN_MOVED_TO) != 0)
                {
                    sub.Listener.Changed(path);
                }
            }
            else if ((mask & (Inotify.IN_CLOSE_WRITE | Inotify.IN_MOVED_TO)) != 0)
            {
                sub.Listener.Changed(path);
            }
        }
    }

    public ChangeBatch Write(string jobName, IReadOnlyList<string> paths, bool incomplete) => _files.Write(paths, incomplete);

    public void Discard(ChangeBatch batch) => _files.Discard(batch);

    public void Dispose()
    {
        _files.Dispose();
        if (_fd < 0) return;
        _loop.Remove(_fd, _token);
        Mono.Unix.Native.Syscall.close(_fd);
        _fd = -1;
    }
}
