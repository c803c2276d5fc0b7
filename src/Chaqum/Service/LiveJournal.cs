using System.Buffers;
using System.Text.Json;
using Chaqum.Control.History;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;
using Mono.Unix.Native;

namespace Chaqum.Service;

/// <summary>
/// STATE/live.journal: which jobs are queued or running, written as it changes, so that
/// crash recovery finds every job a kill -9 interrupts. The history's live table says the
/// same, but it is written in batches a tenth of a second apart, and a job acknowledged
/// (its "S" reply sent) in that tenth would be forgotten by a crash. Here each event is
/// one JSON line appended with one write(2) before the reply leaves: a killed process's
/// writes are in the page cache, so nothing the daemon acknowledged is lost by a kill
/// (power loss is another matter: nothing here is fsynced).
///
///   {"k":"+","id":"convert/7","a":1,"s":"convert","x":["a.png"],"g":"img","p":"init","t":1764540000.123}
///   {"k":"s","id":"convert/7","a":1,"pid":4242,"t":1764540000.125}
///   {"k":"-","id":"convert/7"}
///
/// Recovery counts as lost every job the journal has that is still live, or that it saw
/// finish while the run's record had not reached the history yet.
///
/// The file is rewritten with just the live jobs (and those that finished in the last
/// two seconds) when it has grown to twice what that takes (and at least a megabyte),
/// through a temporary file and a rename, so its size stays in proportion to the live
/// jobs. Written on the event loop only. A write that
/// fails is logged once; the history's live table still covers what is older than its
/// last batch.
/// </summary>
public sealed class LiveJournal : IDisposable
{
    public const string FileName = "live.journal";
    private const long MinRewriteBytes = 1 << 20;

    private readonly string _path;
    private readonly Func<IEnumerable<Job>> _liveJobs;
    private readonly ILogger _log;
    private readonly ArrayBufferWriter<byte> _line = new(512);
    private readonly Utf8JsonWriter _writer;
    private int _fd;
    private long _written;
    private long _liveBytes;
    private bool _failing;

    /// <summary>Jobs that finished lately: a rewrite keeps them, since their run records
    /// may still be on their way to the history (batches are 100 ms apart; this is twenty
    /// times that).</summary>
    private readonly Queue<(long At, Job Job)> _finished = new();
    private const long KeepFinishedMs = 2_000;
    private readonly Func<long> _milliseconds;

    /// <summary>Starts an empty journal (what the last one said has been recovered).
    /// milliseconds: a monotonic clock (tests pass a fake one).</summary>
    public LiveJournal(string stateDir, Func<IEnumerable<Job>> liveJobs, ILogger log, Func<long>? milliseconds = null)
    {
        _milliseconds = milliseconds ?? (() => Environment.TickCount64);
        _path = Path.Combine(stateDir, FileName);
        _liveJobs = liveJobs;
        _log = log;
        _writer = new Utf8JsonWriter(_line);
        _fd = Open(_path, OpenFlags.O_TRUNC);
        if (_fd < 0) Failed($"cannot open {_path}: {Stdlib.strerror(Stdlib.GetLastError())}");
    }

    private static int Open(string path, OpenFlags extra) =>
        Syscall.open(path, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_APPEND | OpenFlags.O_CLOEXEC | extra,
            FilePermissions.S_IRUSR | FilePermissions.S_IWUSR);

    public void Enqueued(Job job)
    {
        WriteEnqueued(job);
        Append(_line.WrittenSpan);
    }

    public void Started(Job job)
    {
        WriteStarted(job);
        Append(_line.WrittenSpan);
    }

    public void Finished(Job job)
    {
        long now = _milliseconds();
        _finished.Enqueue((now, job));
        while (_finished.Peek().At < now - KeepFinishedMs) _finished.Dequeue();
        WriteFinished(job);
        Append(_line.WrittenSpan);
    }

    private void WriteFinished(Job job)
    {
        BeginLine("-", job);
        EndLine();
    }

    private void WriteEnqueued(Job job)
    {
        BeginLine("+", job);
        _writer.WriteNumber("a", job.Attempt);
        _writer.WriteString("s", job.Script.Relative);
        _writer.WriteStartArray("x");
        foreach (var arg in job.Args) _writer.WriteStringValue(arg);
        _writer.WriteEndArray();
        if (!job.Group.IsDefault) _writer.WriteString("g", job.Group.Name);
        if (job.Parent is { } parent) _writer.WriteString("p", parent.Id);
        _writer.WriteNumber("t", job.EnqueuedAt.ToUnixTimeMilliseconds() / 1000.0);
        EndLine();
    }

    private void WriteStarted(Job job)
    {
        BeginLine("s", job);
        _writer.WriteNumber("a", job.Attempt);
        _writer.WriteNumber("pid", job.Pid);
        _writer.WriteNumber("t", (job.StartedAt ?? DateTimeOffset.Now).ToUnixTimeMilliseconds() / 1000.0);
        EndLine();
    }

    /// <summary>A new line in _line: {"k":kind,"id":job's id, ... (the rest, then EndLine).</summary>
    private void BeginLine(string kind, Job job)
    {
        _line.ResetWrittenCount();
        _writer.Reset(_line);
        _writer.WriteStartObject();
        _writer.WriteString("k", kind);
        _writer.WriteString("id", job.Id);
    }

    private void EndLine()
    {
        _writer.WriteEndObject();
        _writer.Flush();
        _line.GetSpan(1)[0] = (byte)'\n';
        _line.Advance(1);
    }

    private void Append(ReadOnlySpan<byte> line)
    {
        if (_fd < 0) return;
        if (!WriteAll(_fd, line))
        {
            Failed($"cannot write {_path}: {Stdlib.strerror(Stdlib.GetLastError())}");
            return;
        }
        if (_failing)
        {
            _failing = false;
            _log.LogInformation("{Path}: writing again", _path);
        }
        _written += line.Length;
        if (_written >= Math.Max(MinRewriteBytes, 2 * _liveBytes)) Rewrite();
    }

    /// <summary>The journal with only what is live now: each live job's "+" line, and its
    /// "s" line if it runs.</summary>
    private void Rewrite()
    {
        string temporary = _path + ".new";
        int fd = Open(temporary, OpenFlags.O_TRUNC);
        if (fd < 0)
        {
            Failed($"cannot rewrite {_path}: {Stdlib.strerror(Stdlib.GetLastError())}");
            _written = 0; // try again after as much again
            return;
        }
        var all = new ArrayBufferWriter<byte>(64 * 1024);
        long now = _milliseconds();
        while (_finished.Count > 0 && _finished.Peek().At < now - KeepFinishedMs) _finished.Dequeue();
        foreach (var (_, job) in _finished)
        {
            WriteEnqueued(job);
            all.Write(_line.WrittenSpan);
            WriteFinished(job);
            all.Write(_line.WrittenSpan);
        }
        foreach (var job in _liveJobs())
        {
            WriteEnqueued(job);
            all.Write(_line.WrittenSpan);
            if (job.State == JobState.Running)
            {
                WriteStarted(job);
                all.Write(_line.WrittenSpan);
            }
        }
        bool ok = WriteAll(fd, all.WrittenSpan);
        Syscall.close(fd);
        if (!ok || Syscall.rename(temporary, _path) != 0)
        {
            Failed($"cannot rewrite {_path}: {Stdlib.strerror(Stdlib.GetLastError())}");
            Syscall.unlink(temporary);
            _written = 0;
            return;
        }
        // The old descriptor points at the file just replaced: append to the new one.
        Syscall.close(_fd);
        _fd = Open(_path, 0);
        if (_fd < 0) Failed($"cannot open {_path}: {Stdlib.strerror(Stdlib.GetLastError())}");
        _written = _liveBytes = all.WrittenCount;
    }

    private static unsafe bool WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            long done = 0;
            while (done < data.Length)
            {
                long n = Syscall.write(fd, p + done, (ulong)(data.Length - done));
                if (n < 0 && Stdlib.GetLastError() == Errno.EINTR) continue;
                if (n <= 0) return false;
                done += n;
            }
        }
        return true;
    }

    private void Failed(string message)
    {
        if (_failing) return;
        _failing = true;
        _log.LogError("{Message}; jobs enqueued from now on may be missed by crash recovery until it works again", message);
    }

    /// <summary>A clean stop: nothing is live, so nothing is left to recover.</summary>
    public void Dispose()
    {
        if (_fd >= 0) Syscall.close(_fd);
        _fd = -1;
        if (_liveJobs().Any() || Syscall.unlink(_path) == 0) return;
        var errno = Stdlib.GetLastError();
        if (errno != Errno.ENOENT) _log.LogError("cannot remove {Path} at a clean stop: {Error}", _path, Stdlib.strerror(errno));
    }

    /// <summary>The jobs in the journal, each with what it knows of it (pid and start time
    /// of its last attempt; no start ticks: those only the history has) and whether it
    /// was seen to finish. Missing or unreadable: empty. A torn last line is skipped.</summary>
    public static List<(LiveRecord Job, bool Finished)> Read(string stateDir)
    {
        var jobs = new Dictionary<string, (LiveRecord Job, bool Finished)>(StringComparer.Ordinal);
        string path = Path.Combine(stateDir, FileName);
        IEnumerable<string> lines;
        try { lines = File.ReadLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new(); }
        try
        {
            foreach (var line in lines)
            {
                JsonElement j;
                try { j = JsonDocument.Parse(line).RootElement; }
                catch (JsonException) { continue; }
                if (!j.TryGetProperty("k", out var k) || !j.TryGetProperty("id", out var idElement)) continue;
                string id = idElement.GetString()!;
                switch (k.GetString())
                {
                    case "+":
                        jobs[id] = (new LiveRecord
                        {
                            Id = id,
                            Attempt = j.GetProperty("a").GetInt32(),
                            Script = j.GetProperty("s").GetString()!,
                            Args = j.GetProperty("x").EnumerateArray().Select(a => a.GetString()!).ToArray(),
                            Group = j.TryGetProperty("g", out var g) ? g.GetString() : null,
                            Parent = j.TryGetProperty("p", out var p) ? p.GetString() : null,
                            EnqueuedAt = Time(j),
                        }, false);
                        break;
                    case "s" when jobs.TryGetValue(id, out var known):
                        jobs[id] = (known.Job with { Attempt = j.GetProperty("a").GetInt32(), Pid = j.GetProperty("pid").GetInt32(), StartedAt = Time(j) }, false);
                        break;
                    case "-" when jobs.TryGetValue(id, out var known):
                        jobs[id] = (known.Job, true);
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or KeyNotFoundException or FormatException) { }
        return jobs.Values.ToList();
    }

    private static DateTimeOffset Time(JsonElement j) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(j.GetProperty("t").GetDouble() * 1000));
}
