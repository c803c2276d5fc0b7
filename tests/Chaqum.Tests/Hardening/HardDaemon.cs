using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Chaqum.Tests.Hardening;

/// <summary>
/// The real daemon for load and fault tests: its log goes to a file (a flood of job output
/// would swamp an in-memory log), it can be started through a prefix command (prlimit,
/// setpriv, sh -c 'umask ...'), and its figures can be read from /proc while it runs.
/// Dispose stops it and kills every process of the tree.
/// </summary>
public sealed class HardDaemon : IDisposable
{
    private readonly Process _process;
    private readonly TempTree _tree;

    public string LogPath { get; }
    public string SocketPath { get; }
    public int Pid => _process.Id;

    private HardDaemon(Process process, TempTree tree, string logPath, string socketPath)
    {
        _process = process;
        _tree = tree;
        LogPath = logPath;
        SocketPath = socketPath;
    }

    /// <summary>Starts "[prefix...] dotnet exec chaqum.dll --state-dir S --control C
    /// --grace 2 [options] TREE [args]"; the log (stderr) goes to logPath (default: a file
    /// next to the tree, deleted at the end; any other path is left alone).</summary>
    public static HardDaemon Start(TempTree tree, string[]? options = null, string[]? args = null,
        string[]? prefix = null, IDictionary<string, string?>? env = null, string? logPath = null, string? socketPath = null)
    {
        logPath ??= tree.Root + ".log";
        var socket = socketPath ?? tree.Root + ".sock";
        var command = new List<string>();
        if (prefix is not null) command.AddRange(prefix);
        command.AddRange(new[] { "dotnet", "exec", DaemonProcess.DaemonDll, "--state-dir", tree.StateDir, "--control", socket });
        if (options is null || !options.Contains("--grace")) command.AddRange(new[] { "--grace", "2" });
        if (options is not null) command.AddRange(options);
        command.Add(tree.Root);
        if (args is not null) command.AddRange(args);

        // sh redirects the log and execs: the process we start is the daemon itself
        // (prlimit and setpriv exec too), so its pid is the daemon's.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$@\" 2>\"$LOG\" >/dev/null");
        info.ArgumentList.Add("sh");
        foreach (var c in command) info.ArgumentList.Add(c);
        info.Environment["LOG"] = logPath;
        info.Environment.Remove("CHAQUM_TREE");
        if (env is not null)
            foreach (var (k, v) in env)
            {
                if (v is null) info.Environment.Remove(k);
                else info.Environment[k] = v;
            }
        var process = Process.Start(info)!;
        process.StandardInput.Close();
        return new HardDaemon(process, tree, logPath, socket);
    }

    private readonly StringBuilder _log = new();
    private long _logOffset;

    /// <summary>The log so far. Read incrementally (complete lines only), so polling a
    /// long log stays cheap; for a flood of output use <see cref="CountLines"/>.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                if (!File.Exists(LogPath)) return "";
                using var s = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                s.Seek(_logOffset, SeekOrigin.Begin);
                var bytes = new byte[s.Length - _logOffset];
                int n = s.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
                int end = Array.LastIndexOf(bytes, (byte)'\n', n - 1) + 1;
                if (end > 0)
                {
                    _log.Append(Encoding.UTF8.GetString(bytes, 0, end));
                    _logOffset += end;
                }
                return _log.ToString();
            }
        }
    }

    /// <summary>Lines of the log containing text, counted without holding the log in memory.</summary>
    public long CountLines(string text)
    {
        using var s = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var r = new StreamReader(s);
        long count = 0;
        while (r.ReadLine() is { } line) if (line.Contains(text, StringComparison.Ordinal)) count++;
        return count;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits for the daemon to exit; the timeout is a quiet machine's, scaled by
    /// <see cref="Deadline"/>.</summary>
    public int WaitForExit(TimeSpan quiet)
    {
        var timeout = Deadline.Scale(quiet);
        if (!_process.WaitForExit(timeout))
            Assert.Fail($"daemon did not exit within {timeout.TotalSeconds}s. Log tail:\n{Tail(40)}");
        return _process.ExitCode;
    }

    public string WaitForLine(string pattern, TimeSpan? timeout = null)
    {
        var regex = new Regex(pattern, RegexOptions.Multiline);
        Match? m = null;
        Poll.Until(() => (m = regex.Match(Log)).Success, () => $"log line /{pattern}/; log tail:\n{Tail(40)}", timeout);
        return m!.Value;
    }

    public string Tail(int lines)
    {
        var all = new Queue<string>();
        using var s = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var r = new StreamReader(s);
        while (r.ReadLine() is { } line)
        {
            all.Enqueue(line);
            if (all.Count > lines) all.Dequeue();
        }
        return string.Join("\n", all);
    }

    /// <summary>Lines a job printed on stdout ("JOB[out] text" → "text").</summary>
    public List<string> Output(string jobIdPattern)
    {
        var regex = new Regex(@"^\S+ \w{3} (" + jobIdPattern + @")\[out\] ?(.*)$", RegexOptions.Multiline);
        return regex.Matches(Log).Select(m => m.Groups[2].Value.TrimEnd('\r')).ToList();
    }

    public void Signal(int signal) => Support.Native.kill(Pid, signal);

    /// <summary>Resident memory in KiB, from /proc/PID/status.</summary>
    public long RssKiB() => ProcFigures.RssKiB(Pid);
    public int FdCount() => ProcFigures.FdCount(Pid);
    public List<int> ZombieChildren() => ProcFigures.ZombieChildren(Pid);

    /// <summary>A "hello" over the control socket: answered on the daemon's event loop, so
    /// its round trip says how long the loop takes to get to a new request.</summary>
    /// <exception cref="SocketException">Not answered within 30 s, scaled (a hang, not slowness).</exception>
    public TimeSpan Hello()
    {
        var sw = Stopwatch.StartNew();
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        {
            ReceiveTimeout = (int)Deadline.Seconds(30).TotalMilliseconds,
            SendTimeout = (int)Deadline.Seconds(30).TotalMilliseconds,
        };
        socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
        socket.Send("{\"v\":1,\"id\":1,\"cmd\":\"hello\",\"args\":{}}\n"u8);
        var buffer = new byte[65536];
        int filled = 0;
        while (Array.IndexOf(buffer, (byte)'\n', 0, filled) < 0)
        {
            int n = socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None);
            if (n == 0) throw new SocketException((int)SocketError.ConnectionReset);
            filled += n;
        }
        if (!Encoding.UTF8.GetString(buffer, 0, filled).Contains("\"ok\":true"))
            Assert.Fail("hello was refused: " + Encoding.UTF8.GetString(buffer, 0, filled));
        return sw.Elapsed;
    }

    /// <summary>Hello, retried until the socket exists (the daemon is starting).</summary>
    public TimeSpan HelloWhenUp()
    {
        Poll.Until(() => File.Exists(SocketPath), "the control socket", TimeSpan.FromSeconds(30));
        return Hello();
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Support.Native.kill(_process.Id, 15);
                if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) _process.Kill(true);
                _process.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }
        catch (InvalidOperationException) { }
        ProcessCleanup.KillTreeProcesses(_tree.Root);
        _process.Dispose();
        // Only a log file of our own, beside the tree: never a path a test passed in that
        // the daemon merely wrote to (as root, deleting "/dev/null" would succeed).
        if (LogPath.StartsWith(_tree.Root, StringComparison.Ordinal))
            try { File.Delete(LogPath); } catch (IOException) { }
    }
}

/// <summary>What /proc says about a process.</summary>
public static class ProcFigures
{
    public static long RssKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return -1;
    }

    public static int FdCount(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;

    /// <summary>Children of pid in state Z (exited, not yet reaped).</summary>
    public static List<int> ZombieChildren(int pid)
    {
        var zombies = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int child)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (Exception) { continue; }
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (rest[0] == "Z" && int.Parse(rest[1]) == pid) zombies.Add(child);
        }
        return zombies;
    }
}
