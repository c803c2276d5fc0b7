using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Chaqum.Tests.Hardening;

/// <summary>loadjob.c (next to this file), compiled once per test run with gcc, and copied
/// into trees as bin/loadjob. C, because a thousand Python or sh jobs would measure the
/// interpreters, not the daemon.</summary>
public static class NativeJob
{
    private static readonly Lazy<string> Binary = new(Compile);

    /// <summary>This source directory (tests run from the checkout they were built in).</summary>
    public static string SourceDir([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    /// <summary>The repository root: where fuzz/run lives.</summary>
    public static string RepoRoot => Path.GetFullPath(Path.Combine(SourceDir(), "..", "..", ".."));

    /// <summary>Copies the compiled loadjob into the tree as bin/loadjob; returns "bin/loadjob".</summary>
    public static string Install(TempTree tree)
    {
        var target = tree.PathOf("bin/loadjob");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Binary.Value, target, overwrite: true);
        return "bin/loadjob";
    }

    private static string Compile()
    {
        var output = Path.Combine(Path.GetTempPath(), $"chaqum-loadjob-{Environment.ProcessId}");
        var info = new ProcessStartInfo("gcc") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-O2", "-o", output, Path.Combine(SourceDir(), "loadjob.c") }) info.ArgumentList.Add(a);
        using var gcc = Process.Start(info)!;
        var errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        if (gcc.ExitCode != 0) Assert.Fail("gcc loadjob.c failed:\n" + errors);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(output);
        return output;
    }

    /// <summary>A size for a load test: the default, times $HARDENING_SCALE (for the
    /// larger runs in docs/reliability.md, done by hand).</summary>
    public static int Scaled(int size)
    {
        var scale = Environment.GetEnvironmentVariable("HARDENING_SCALE");
        return scale is null ? size : (int)(size * double.Parse(scale, System.Globalization.CultureInfo.InvariantCulture));
    }
}
