namespace Chaqum.Client;

/// <summary>
/// Checks that fds 3 and 4 really are the daemon's command and reply pipes before they
/// are used. Merely "open" is not enough: outside a chaqum job the .NET runtime itself
/// opens descriptors at start-up that may land on 3 and 4, and writing commands into one
/// of those would be a disaster. The daemon's pipes are inherited across exec, so they are
/// pipes without close-on-exec, fd 3 open for writing and fd 4 for reading; the runtime's
/// own descriptors are all close-on-exec. Linux only: it reads /proc/self.
/// </summary>
internal static class JobFds
{
    public const int Commands = 3;
    public const int Replies = 4;

    private const int AccessMode = 3;            // O_ACCMODE
    private const int ReadOnly = 0, WriteOnly = 1, ReadWrite = 2;
    private const int CloseOnExec = 0x80000;     // O_CLOEXEC (02000000), as /proc shows it

    /// <summary>Null when the two fds can be used, else why not.</summary>
    public static string? Problem(int commandFd = Commands, int replyFd = Replies)
    {
        var problems = new List<string>();
        if (Check(commandFd, write: true) is { } c) problems.Add(c);
        if (Check(replyFd, write: false) is { } r) problems.Add(r);
        if (problems.Count == 0) return null;
        var why = string.Join("; ", problems);
        var hint = Environment.GetEnvironmentVariable("CHAQUM_IDENT") is null
            ? " (CHAQUM_IDENT is not set either: this process was not started by a chaqum daemon)"
            : "";
        return $"not running as a chaqum job: fds {commandFd} and {replyFd} must be the daemon's command and reply pipes, but {why}{hint}";
    }

    private static string? Check(int fd, bool write)
    {
        string? target;
        try { target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget; }
        catch (IOException) { target = null; }
        catch (UnauthorizedAccessException e) { return $"fd {fd} cannot be inspected ({e.Message})"; }
        if (target is null) return $"fd {fd} is not open";
        if (!target.StartsWith("pipe:", StringComparison.Ordinal) && !target.StartsWith("socket:", StringComparison.Ordinal))
            return $"fd {fd} is {target}, not a pipe";

        int? flags = Flags(fd);
        if (flags is null) return $"fd {fd} cannot be inspected";
        if ((flags & CloseOnExec) != 0) return $"fd {fd} is close-on-exec, so it was not inherited from the daemon";
        int mode = flags.Value & AccessMode;
        if (write && mode is not (WriteOnly or ReadWrite)) return $"fd {fd} is not open for writing";
        if (!write && mode is not (ReadOnly or ReadWrite)) return $"fd {fd} is not open for reading";
        return null;
    }

    /// <summary>The "flags:" line of /proc/self/fdinfo/FD (octal; includes O_CLOEXEC).</summary>
    private static int? Flags(int fd)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
            {
                if (!line.StartsWith("flags:", StringComparison.Ordinal)) continue;
                var octal = line["flags:".Length..].Trim();
                int value = 0;
                foreach (char c in octal)
                {
                    if (c is < '0' or > '7') return null;
                    value = value * 8 + (c - '0');
                }
                return value;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
