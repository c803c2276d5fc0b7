using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Chaqum.Tests.Web;

/// <summary>
/// The real chaqum-web (built next to the tests), started as a process of its own on a
/// free port of 127.0.0.1 (or the address given). Its log is collected; the constructor
/// returns once it says where it serves. Dispose stops it (SIGTERM, then SIGKILL).
/// </summary>
public sealed class WebServer : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = new();

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "chaqum-web.dll");

    public WebServer(TempTree tree, params string[] extra) : this(new[] { "-t", tree.Root, "--state-dir", tree.StateDir }.Concat(extra).ToArray(), wait: true) { }

    private WebServer(string[] args, bool wait)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(Dll);
        if (!args.Contains("--listen")) { info.ArgumentList.Add("--listen"); info.ArgumentList.Add("127.0.0.1:0"); }
        foreach (var a in args) info.ArgumentList.Add(a);
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) Add(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Add(e.Data); };
        _process.Start();
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!wait) return;
        var serving = new Regex(@"serving .* on (\S+)");
        string line = WaitForLine(serving.ToString());
        string address = serving.Match(line).Groups[1].Value;
        BaseUrl = address.StartsWith("unix:", StringComparison.Ordinal) ? address : address.TrimEnd('/');
    }

    /// <summary>Runs chaqum-web to its exit (a refusal to start): its status and what it said.</summary>
    public static (int Exit, string Log) Refusal(params string[] args)
    {
        using var web = new WebServer(args, wait: false);
        if (!web._process.WaitForExit(Deadline.Scale(TimeSpan.FromSeconds(60)))) Assert.Fail("chaqum-web did not exit:\n" + web.Log);
        web._process.WaitForExit();
        return (web._process.ExitCode, web.Log);
    }

    private void Add(string line)
    {
        lock (_lines) _lines.Add(line);
        TestContext.Progress.WriteLine("    web| " + line);
    }

    /// <summary>http://127.0.0.1:PORT (or unix:PATH).</summary>
    public string BaseUrl { get; } = "";

    public string Log { get { lock (_lines) return string.Join("\n", _lines); } }

    public string WaitForLine(string pattern)
    {
        var regex = new Regex(pattern);
        string? found = null;
        Poll.Until(() =>
        {
            lock (_lines) found = _lines.FirstOrDefault(regex.IsMatch);
            return found is not null || _process.HasExited;
        }, () => $"chaqum-web to log /{pattern}/; so far:\n{Log}");
        if (found is null) Assert.Fail($"chaqum-web exited ({_process.ExitCode}) before /{pattern}/:\n{Log}");
        return found!;
    }

    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl + "/"), Timeout = Deadline.Scale(TimeSpan.FromSeconds(60)) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Chaqum.Tests.Support.Native.kill(_process.Id, 15);
                if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) _process.Kill(true);
                _process.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
