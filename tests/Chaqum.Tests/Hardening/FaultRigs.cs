using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Chaqum.Tests.Hardening;

/// <summary>A small tmpfs mounted over a directory (root only), to fill the disk on
/// purpose: Fill writes a file until the disk is full, Free removes it.</summary>
public sealed class Tmpfs : IDisposable
{
    private readonly string _dir;
    private string Filler => Path.Combine(_dir, ".filler");

    private Tmpfs(string dir) => _dir = dir;

    public static Tmpfs Mount(string dir, string size)
    {
        Directory.CreateDirectory(dir);
        Run("mount", "-t", "tmpfs", "-o", $"size={size},mode=0700", "tmpfs", dir);
        return new Tmpfs(dir);
    }

    public void Fill()
    {
        var chunk = new byte[1 << 20];
        using var f = new FileStream(Filler, FileMode.Create, FileAccess.Write);
        try
        {
            while (true) f.Write(chunk);
        }
        catch (IOException)
        {
            // Full. Fill the last pages too, a byte at a time would be slow: small writes.
            try { while (true) f.Write(chunk, 0, 4096); } catch (IOException) { }
        }
    }

    public void Free() => File.Delete(Filler);

    public void Dispose()
    {
        for (int i = 0; i < 50; i++)
        {
            if (TryRun("umount", _dir)) return;
            Thread.Sleep(100);
        }
        TryRun("umount", "-l", _dir); // still busy: detach it now, freed when let go
    }

    internal static void Run(params string[] command)
    {
        if (!TryRun(command)) Assert.Fail($"{string.Join(' ', command)} failed (these fault tests need root)");
    }

    internal static bool TryRun(params string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in command.Skip(1)) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0;
    }
}

/// <summary>A cgroup with a pids limit (systemd's TasksMax), v1 or v2; root only. Dispose
/// kills what is left in it and removes it.</summary>
public sealed class PidsCgroup : IDisposable
{
    private readonly string _dir;

    private PidsCgroup(string dir) => _dir = dir;

    public string Procs => Path.Combine(_dir, "cgroup.procs");

    public long Peak => File.Exists(Path.Combine(_dir, "pids.peak"))
        ? long.Parse(File.ReadAllText(Path.Combine(_dir, "pids.peak")).Trim()) : -1;

    public static PidsCgroup Create(int limit)
    {
        string name = "chaqum-test-" + Guid.NewGuid().ToString("N")[..8];
        string dir;
        if (Directory.Exists("/sys/fs/cgroup/pids"))
        {
            dir = Path.Combine("/sys/fs/cgroup/pids", name);
        }
        else
        {
            // cgroup v2: the pids controller must be enabled for children of the root.
            File.AppendAllText("/sys/fs/cgroup/cgroup.subtree_control", "+pids");
            dir = Path.Combine("/sys/fs/cgroup", name);
        }
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "pids.max"), limit.ToString());
        return new PidsCgroup(dir);
    }

    public void Dispose()
    {
        for (int round = 0; round < 100; round++)
        {
            var pids = File.ReadAllLines(Procs).Where(l => l.Length > 0).Select(int.Parse).ToList();
            if (pids.Count == 0) break;
            foreach (int pid in pids) Support.Native.kill(pid, 9);
            Thread.Sleep(50);
        }
        try { Directory.Delete(_dir); } catch (IOException) { }
    }
}

internal static partial class Posix
{
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chown(string path, int owner, int group);
}
