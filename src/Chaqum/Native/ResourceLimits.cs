using System.Runtime.InteropServices;

namespace Chaqum.Native;

/// <summary>getrlimit(2): Mono.Posix does not offer it.</summary>
internal static partial class ResourceLimits
{
    public const int RLIMIT_NPROC = 6;
    public const int RLIMIT_NOFILE = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Max;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int getrlimit(int resource, out RLimit limit);

    /// <summary>The soft limit; null when unlimited or unreadable.</summary>
    public static long? Soft(int resource) =>
        getrlimit(resource, out var l) == 0 && l.Current != ulong.MaxValue ? (long)Math.Min(l.Current, long.MaxValue) : null;
}
