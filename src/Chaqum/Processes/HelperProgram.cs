using System.Text;
using Chaqum.EventLoop;
using Chaqum.Native;
using Mono.Unix.Native;

namespace Chaqum.Processes;

/// <summary>
/// Runs a program of the machine that is not a job (sinfo, scancel) to its end, without
/// blocking the event loop: spawned like a job (its own process group, default signals),
/// reaped by the <see cref="Reaper"/>, its stdout and stderr read together into a bounded
/// buffer. When it has exited, the callback gets a one-line account: null for exit 0,
/// else "PROGRAM ARGS exited N: OUTPUT" (or the spawn error), which is what a refusal or
/// a log line should say.
/// </summary>
public sealed class HelperProgram : IReadyHandler
{
    /// <summary>Output kept: enough for any error message, bounded whatever it prints.</summary>
    private const int MaxOutput = 8192;

    private readonly EpollLoop _loop;
    private readonly int _fd;
    private readonly long _token;
    private readonly MemoryStream _output = new();
    private readonly string _command;
    private readonly Action<string?, string> _done;
    private bool _closed;

    private HelperProgram(EpollLoop loop, int fd, string command, Action<string?, string> done)
    {
        _loop = loop;
        _fd = fd;
        _command = command;
        _done = done;
        _token = loop.Add(fd, EpollEvents.EPOLLIN, this);
    }

    /// <summary>Starts PROGRAM (looked up in PATH) with args; done(failure, output) runs on
    /// the loop thread once it has exited, or at once when it could not be started.
    /// Returns its pid (its own process group), or 0 when it could not be started.</summary>
    public static int Run(EpollLoop loop, Spawner spawner, Reaper reaper, string program, string[] args, Action<string?, string> done)
    {
        string command = string.Join(' ', new[] { program }.Concat(args).Select(Words.ShellWords.Quote));
        if (Find(program) is not { } path)
        {
            done($"{command}: {program} not found in PATH ({Environment.GetEnvironmentVariable("PATH")})", "");
            return 0;
        }
        (int read, int write) pipe;
        try { pipe = Pipes.Create(); }
        catch (IOException e) { done($"{command}: {e.Message}", ""); return 0; }
        int pid = spawner.StartProgram(path, args, Array.Empty<KeyValuePair<string, string>>(), -1, pipe.write, pipe.write, out int errno);
        Syscall.close(pipe.write);
        if (pid == 0)
        {
            Syscall.close(pipe.read);
            done($"{command}: {Native.Errno.Text(errno)}", "");
            return 0;
        }
        Pipes.SetNonBlockingFresh(pipe.read);
        var helper = new HelperProgram(loop, pipe.read, command, done);
        reaper.Track(pid, (status, _) => helper.Exited(status));
        return pid;
    }

    /// <summary>The program's absolute path: the first executable of that name in PATH
    /// (and in /usr/bin, /usr/sbin, where Debian puts Slurm's tools, if PATH is bare).</summary>
    public static string? Find(string program)
    {
        if (program.Contains('/')) return File.Exists(program) ? program : null;
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(new[] { "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin" });
        foreach (var dir in dirs)
        {
            var candidate = Path.Combine(dir, program);
            if (Syscall.access(candidate, AccessModes.X_OK) == 0 && !Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    public void OnReady(EpollEvents events) => Drain();

    private unsafe void Drain()
    {
        var buffer = new byte[4096];
        while (!_closed)
        {
            long n;
            fixed (byte* p = buffer) n = Syscall.read(_fd, p, (ulong)buffer.Length);
            if (n > 0)
            {
                int keep = (int)Math.Min(n, MaxOutput - _output.Length);
                if (keep > 0) _output.Write(buffer, 0, keep);
                continue;
            }
            // Read once: Stdlib.GetLastError clears errno as it converts it.
            var errno = n < 0 ? Stdlib.GetLastError() : 0;
            if (errno == Mono.Unix.Native.Errno.EINTR) continue;
            if (errno == Mono.Unix.Native.Errno.EAGAIN) return;
            Close();
        }
    }

    private void Close()
    {
        if (_closed) return;
        _closed = true;
        _loop.Remove(_fd, _token);
        Syscall.close(_fd);
    }

    private void Exited(int status)
    {
        Drain();
        Close(); // a grandchild that kept the pipe open does not hold the answer back
        string output = Encoding.UTF8.GetString(_output.ToArray()).Trim();
        string? failure = Wait.Exited(status) && Wait.ExitCode(status) == 0 ? null
            : $"{_command} ended with {Reaper.Describe(status)}: {(output.Length == 0 ? "(no output)" : OneLine(output))}";
        _done(failure, output);
    }

    public static string OneLine(string text) => string.Join(" / ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
}
