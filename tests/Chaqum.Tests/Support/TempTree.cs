using System.Text;

namespace Chaqum.Tests.Support;

/// <summary>A job tree in a fresh temporary directory, deleted on dispose.</summary>
public sealed class TempTree : IDisposable
{
    public TempTree()
    {
        Root = Path.Combine(Path.GetTempPath(), "chaqum-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
        StateDir = Path.Combine(Root + ".state");
    }

    public string Root { get; }
    public string StateDir { get; }

    /// <summary>Writes an executable script (a "#!/bin/sh" line is added if missing).</summary>
    public string Script(string name, string body)
    {
        if (!body.StartsWith("#!")) body = "#!/bin/sh\n" + body;
        var path = Path.Combine(Root, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, body.Replace("\r\n", "\n"), new UTF8Encoding(false));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }

    public string File_(string name, string content)
    {
        var path = Path.Combine(Root, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public string Read(string name) => File.ReadAllText(Path.Combine(Root, name));

    public bool Exists(string name) => File.Exists(Path.Combine(Root, name));

    public string PathOf(string name) => Path.Combine(Root, name);

    public void Dispose()
    {
        ProcessCleanup.KillTreeProcesses(Root);
        try { Directory.Delete(Root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        try { if (Directory.Exists(StateDir)) Directory.Delete(StateDir, true); } catch (IOException) { }
    }
}
