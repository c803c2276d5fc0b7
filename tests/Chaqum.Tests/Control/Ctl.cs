using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Chaqum.Tests.Control;

/// <summary>Runs the real chaqumctl (built next to the tests) and collects what it says.</summary>
public static class Ctl
{
    public sealed record Result(int Exit, string Out, string Err)
    {
        public JsonNode Json => JsonNode.Parse(Out) ?? throw new AssertionException($"no JSON in: {Out}");
        public string[] Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        public override string ToString() => $"exit {Exit}\nstdout:\n{Out}\nstderr:\n{Err}";
    }

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "chaqumctl.dll");

    /// <summary>A daemon on a tree whose init runs initBody, then keeps the daemon alive
    /// until a file "stop" appears in the tree; returns once the control socket answers.</summary>
    public static DaemonProcess Daemon(TempTree tree, string initBody)
    {
        tree.Script("init", Chaqum.Tests.Daemon.Sh.Script(initBody + "\nwhile [ ! -e stop ]; do sleep 0.05; done\n"));
        var d = DaemonProcess.Start(tree);
        Poll.Until(() => Run(tree, "ps", "--json").Exit == 0, "the control socket to answer");
        return d;
    }

    /// <summary>The job of that id in ps --json, or null.</summary>
    public static JsonNode? Job(TempTree tree, string id)
    {
        var r = Run(tree, "ps", "--json", "-a");
        Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
        return r.Json.AsArray().FirstOrDefault(j => j!["id"]!.GetValue<string>() == id);
    }

    public static Result Run(TempTree tree, params string[] args) => Exec(new[] { "-t", tree.Root, "--state-dir", tree.StateDir }.Concat(args).ToArray());

    public static Result Exec(string[] args, IDictionary<string, string?>? env = null, string[]? prefix = null, TimeSpan? timeout = null)
    {
        using var p = Start(args, env, prefix);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var limit = Deadline.Scale(timeout ?? TimeSpan.FromSeconds(60));
        if (!p.WaitForExit(limit))
        {
            p.Kill(true);
            Assert.Fail($"chaqumctl {string.Join(' ', args)} did not finish within {limit.TotalSeconds}s");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts chaqumctl (through the prefix command, if any) with stdin closed and
    /// stdout and stderr redirected; the caller reads them and waits.</summary>
    public static Process Start(string[] args, IDictionary<string, string?>? env = null, string[]? prefix = null)
    {
        var (file, list) = prefix is null ? ("dotnet", new List<string>()) : (prefix[0], prefix.Skip(1).ToList());
        if (prefix is not null) list.Add("dotnet");
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in list) info.ArgumentList.Add(a);
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("CHAQUM_CONTROL");
        info.Environment.Remove("CHAQUM_TREE");
        if (env is not null)
            foreach (var (k, v) in env)
            {
                if (v is null) info.Environment.Remove(k);
                else info.Environment[k] = v;
            }
        var p = Process.Start(info)!;
        p.StandardInput.Close();
        return p;
    }
}
