using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Chaqum.Tests.Support;

/// <summary>
/// The real chaqum daemon, started on a tree as a child of the test. Its log (stderr) is
/// collected line by line; Dispose stops it and kills every process of the tree.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = new();
    private readonly TaskCompletionSource _stderrDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stdoutDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _treeRoot;
    private const int EchoedLines = 2000;

    /// <summary>The built daemon next to the test assembly.</summary>
    public static string DaemonDll => Path.Combine(AppContext.BaseDirectory, "chaqum.dll");

    private DaemonProcess(IEnumerable<string> args, string? treeRoot, IDictionary<string, string?>? env)
    {
        _treeRoot = treeRoot;
        // Through `env --default-signal`: a test runner started in the background by a
        // shell without job control (nohup, `cmd &` in a script) has SIGINT and SIGQUIT
        // ignored, every child inherits that, and the runtime then leaves them ignored (as
        // shells do); the daemon under test must see the signals as systemd would send them.
        var info = new ProcessStartInfo("env")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--default-signal");
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(DaemonDll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("CHAQUM_TREE");
        if (env is not null)
            foreach (var (k, v) in env)
            {
                if (v is null) info.Environment.Remove(k);
                else info.Environment[k] = v;
            }
        _process = new Process { StartInfo = info };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) { _stderrDone.TrySetResult(); return; }
            int count;
            lock (_lines) { _lines.Add(e.Data); count = _lines.Count; }
            // Echoed live for a reader of the run, but not a flood: 200 000 progress
            // messages would hold the test up in the runner's pipe, not in the daemon.
            if (count <= EchoedLines) TestContext.Progress.WriteLine("    | " + e.Data);
            else if (count == EchoedLines + 1) TestContext.Progress.WriteLine("    | (further lines kept, not echoed)");
        };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { _stdoutDone.TrySetResult(); return; }
            lock (_lines) _lines.Add("[stdout] " + e.Data);
        };
        _process.Start();
        _process.StandardInput.Close();
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    /// <summary>Starts "chaqum [options] TREE [args]" with the tree's own state directory.</summary>
    public static DaemonProcess Start(TempTree tree, params string[] args) =>
        Start(tree, args, null);

    public static DaemonProcess Start(TempTree tree, string[] args, IDictionary<string, string?>? env, string[]? options = null)
    {
        var all = new List<string> { "--state-dir", tree.StateDir };
        if (options is null || !options.Contains("--grace")) all.AddRange(new[] { "--grace", "2" });
        if (options is not null) all.AddRange(options);
        all.Add(tree.Root);
        all.AddRange(args);
        return new DaemonProcess(all, tree.Root, env);
    }

    /// <summary>Starts chaqum with exactly these arguments.</summary>
    public static DaemonProcess Raw(params string[] args) => new(args, null, null);

    /// <summary>Starts chaqum with exactly these arguments and that environment added.</summary>
    public static DaemonProcess Raw(IDictionary<string, string?> env, params string[] args) => new(args, null, env);

    public int Pid => _process.Id;

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return _lines.ToList(); }
    }

    public string Log => string.Join("\n", Lines);

    public bool HasExited => _process.HasExited;

    /// <summary>Waits for the daemon to exit by itself; returns its exit code. The timeout
    /// is a quiet machine's, scaled by <see cref="Deadline"/>.</summary>
    public int WaitForExit(TimeSpan? timeout = null)
    {
        var limit = timeout is { } quiet ? Deadline.Scale(quiet) : Poll.Default;
        if (!_process.WaitForExit(limit))
            Assert.Fail($"daemon did not exit within {limit.TotalSeconds}s. Log:\n{Log}");
        Task.WaitAll(new Task[] { _stderrDone.Task, _stdoutDone.Task }, Deadline.Seconds(5));
        return _process.ExitCode;
    }

    /// <summary>The first log line matching the pattern, waiting for it to appear.</summary>
    public string WaitForLine(string pattern, TimeSpan? timeout = null)
    {
        var regex = new Regex(pattern);
        string? found = null;
        Poll.Until(() => (found = Lines.FirstOrDefault(regex.IsMatch)) is not null,
            () => $"log line /{pattern}/. Log so far:\n{Log}", timeout);
        return found!;
    }

    public bool HasLine(string pattern) => Lines.Any(new Regex(pattern).IsMatch);

    /// <summary>Lines a job printed on stdout, in order ("JOB[out] text" → "text").</summary>
    public List<string> Output(string jobIdPattern, string stream = "out")
    {
        var regex = new Regex(@"^\S+ \w{3} (" + jobIdPattern + @")\[" + stream + @"\] ?(.*)$");
        return Lines.Select(l => regex.Match(l)).Where(m => m.Success).Select(m => m.Groups[2].Value).ToList();
    }

    public void Signal(int signal) => Native.kill(_process.Id, signal);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Native.kill(_process.Id, 15);
                if (!_process.WaitForExit(TimeSpan.FromSeconds(8))) _process.Kill(true);
                _process.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }
        catch (InvalidOperationException) { }
        if (_treeRoot is not null) ProcessCleanup.KillTreeProcesses(_treeRoot);
        _process.Dispose();
    }
}
