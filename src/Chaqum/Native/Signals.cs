using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>Signal numbers and names, and process-group delivery. kill(2) is declared here
/// because Mono.Posix's wrapper takes its Signum enum, which cannot express signal 0 (the
/// existence probe) or the real-time signals a job may ask for.</summary>
public static partial class Signals
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGUSR1 = 10, SIGUSR2 = 12,
        SIGSEGV = 11, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19;

    private static readonly string[] Names =
    {
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
        "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
        "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    };

    public static string Name(int signal) =>
        signal > 0 && signal < Names.Length ? "SIG" + Names[signal] : signal.ToString();

    /// <summary>Parses TERM, SIGTERM, term, 15, RTMIN+1 style names; null if unknown.</summary>
    public static int? Parse(string text)
    {
        if (int.TryParse(text, System.Globalization.NumberStyles.None, null, out int n))
            return n >= 1 && n <= 64 ? n : null;
        string name = text.ToUpperInvariant();
        if (name.StartsWith("SIG", StringComparison.Ordinal)) name = name[3..];
        if (name == "CLD") name = "CHLD";
        if (name == "POLL") name = "IO";
        if (name == "IOT") name = "ABRT";
        int index = Array.IndexOf(Names, name);
        if (index > 0) return index;
        if (name.StartsWith("RTMIN", StringComparison.Ordinal))
            return Offset(name[5..], 34);
        if (name.StartsWith("RTMAX", StringComparison.Ordinal))
            return Offset(name[5..], 64);
        return null;

        static int? Offset(string rest, int baseSignal)
        {
            if (rest.Length == 0) return baseSignal;
            if (!int.TryParse(rest, out int delta)) return null;
            int sig = baseSignal + delta;
            return sig >= 34 && sig <= 64 ? sig : null;
        }
    }

    /// <summary>Sends a signal to a whole process group. False when the group is gone (ESRCH).</summary>
    public static bool KillGroup(int pgid, int signal)
    {
        if (pgid <= 1) return false; // never -1 (everyone) or our own group by accident
        return kill(-pgid, signal) == 0;
    }

    public static bool GroupExists(int pgid) => pgid > 1 && kill(-pgid, 0) == 0;

    public static bool Process(int pid, int signal) => pid > 1 && kill(pid, signal) == 0;
}
