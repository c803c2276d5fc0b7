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

    public static Result Run(TempTree tree, params string[] args) => Exec(new[] { "-t", tree.Root, "--state-dir", tree.StateDir }.Concat(args).ToArray());

    public static Result Exec(string[] args, IDictionary<string, string?>? env = null, string[]? prefix = null, TimeSpan? timeout = null)
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
        using var p = Process.Start(info)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        if (!p.WaitForExit(limit))
        {
            p.Kill(true);
            Assert.Fail($"chaqumctl {string.Join(' ', args)} did not finish within {limit.TotalSeconds}s");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
