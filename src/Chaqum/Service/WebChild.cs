using Chaqum.EventLoop;
using Chaqum.Native;
using Chaqum.Processes;
using Microsoft.Extensions.Logging;

namespace Chaqum.Service;

/// <summary>
/// chaqum --web ADDR: the daemon starts chaqum-web for its own tree as a supervised
/// child, so that one service (one systemd unit) serves both. chaqum-web stays what it
/// is, a client of the control socket in a process of its own (Kestrel never runs inside
/// the supervisor); the daemon only starts it once the socket exists, starts it again if
/// it dies (after 1 s, doubling up to a minute while it keeps dying at once), and stops it
/// (SIGTERM) when the daemon stops. It is not a job: not in ps, not in the history, and it
/// does not keep the daemon alive.
///
/// The program is found next to the daemon: the executable chaqum-web (installed, or the
/// apphost of a build), else chaqum-web.dll run by the same dotnet host as the daemon.
/// </summary>
public sealed class WebChild(WebChild.Settings settings, Reaper reaper, ITimers timers, IClock clock, ILogger log)
{
    public sealed record Settings(string Address, string? TokenFile, string Tree, string Socket, string? StateDir);

    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromMinutes(1), Steady = TimeSpan.FromMinutes(1);
    private TimeSpan _delay = FirstDelay;
    private TimeSpan _startedAt;
    private ITimerHandle? _timer;
    private bool _stopping;

    /// <summary>The running chaqum-web's pid, 0 when none.</summary>
    public int Pid { get; private set; }

    /// <summary>On the loop.</summary>
    public void Start()
    {
        _timer = null;
        if (_stopping) return;
        var (program, args) = Command();
        if (program is null)
        {
            log.LogError("web: chaqum-web not found next to chaqum ({Dir}){Hint}; the dashboard is not served", AppContext.BaseDirectory,
                SourceBuild() is { } web ? $" nor built in this checkout (dotnet build {Path.GetFullPath(Path.Combine(web, "..", "..", ".."))})" : "");
            return;
        }
        int pid = ChildProgram.Start(program, args, [new("CHAQUM_WEB_PARENT", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))], out int errno);
        if (pid == 0)
        {
            log.LogError("web: cannot start {Program}: {Reason}", program, Errno.Text(errno));
            Again();
            return;
        }
        Pid = pid;
        _startedAt = clock.Now;
        reaper.Track(pid, Exited);
        log.LogInformation("web: chaqum-web started, pid {Pid}, listening on {Address}", pid, settings.Address);
    }

    private (string? Program, List<string> Args) Command()
    {
        var args = new List<string> { "-t", settings.Tree, "--socket", settings.Socket, "--listen", settings.Address };
        if (settings.StateDir is not null) { args.Add("--state-dir"); args.Add(settings.StateDir); }
        if (settings.TokenFile is not null) { args.Add("--token-file"); args.Add(settings.TokenFile); }
        foreach (var dir in new[] { AppContext.BaseDirectory, SourceBuild() })
        {
            if (dir is null) continue;
            string native = Path.Combine(dir, "chaqum-web");
            if (File.Exists(native)) return (native, args);
            string dll = Path.Combine(dir, "chaqum-web.dll");
            // A JIT daemon runs under the dotnet host: the same host runs chaqum-web.dll.
            if (File.Exists(dll) && Environment.ProcessPath is { } host && Path.GetFileName(host) == "dotnet")
            {
                args.Insert(0, dll);
                args.Insert(0, "exec");
                return (host, args);
            }
        }
        return (null, args);
    }

    /// <summary>In a source checkout (`dotnet run --project src/Chaqum -- --web ...`) the
    /// daemon runs from src/Chaqum/bin/CONFIG/TFM, and chaqum-web's build of the same
    /// configuration is in src/Chaqum.Web/bin/CONFIG/TFM: that directory, else null.</summary>
    private static string? SourceBuild()
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var config = tfm.Parent;
        var bin = config?.Parent;
        var project = bin?.Parent;
        if (bin?.Name != "bin" || project?.Name != "Chaqum" || project.Parent is not { } src) return null;
        return Path.Combine(src.FullName, "Chaqum.Web", "bin", config!.Name, tfm.Name);
    }

    private void Exited(int status, Wait.RUsage usage)
    {
        Pid = 0;
        if (_stopping)
        {
            log.LogInformation("web: chaqum-web stopped ({Status})", Reaper.Describe(status));
            return;
        }
        if (clock.Now - _startedAt >= Steady) _delay = FirstDelay;
        log.LogWarning("web: chaqum-web exited ({Status}); starting it again in {Delay}s", Reaper.Describe(status), _delay.TotalSeconds);
        Again();
    }

    private void Again()
    {
        _timer = timers.After(_delay, Start);
        _delay = TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, MaxDelay.Ticks));
    }

    /// <summary>For the daemon's last wait: 1 while chaqum-web has not been reaped (SIGKILL
    /// sent to it when asked), else 0.</summary>
    public int Remaining(int signal)
    {
        if (Pid <= 0) return 0;
        if (signal == Signals.SIGKILL) Signals.Process(Pid, Signals.SIGKILL);
        return 1;
    }

    /// <summary>On the loop: no more restarts; SIGTERM to the running one.</summary>
    public void Stop()
    {
        if (_stopping) return;
        _stopping = true;
        _timer?.Cancel();
        _timer = null;
        if (Pid > 0) Signals.Process(Pid, Signals.SIGTERM);
    }
}
