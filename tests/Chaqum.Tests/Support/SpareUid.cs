namespace Chaqum.Tests.Support;

/// <summary>A uid of its own for a test that limits a uid's processes (RLIMIT_NPROC counts
/// every task of the uid, machine-wide): with nobody (65534), any other process of nobody,
/// from this run or another, would eat into the limit. No account needs to exist for it.</summary>
public static class SpareUid
{
    /// <summary>A uid far above any account's, owned by no running process.</summary>
    public static int Pick()
    {
        while (true)
        {
            int uid = Random.Shared.Next(3_000_000, 4_000_000);
            if (!Directory.EnumerateDirectories("/proc").Any(dir => UidOf(dir) == uid)) return uid;
        }
    }

    private static int? UidOf(string procDir)
    {
        try
        {
            var line = File.ReadLines(Path.Combine(procDir, "status")).FirstOrDefault(l => l.StartsWith("Uid:"));
            return line is null ? null : int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }
}
