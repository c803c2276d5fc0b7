using Microsoft.Win32.SafeHandles;

namespace Chaqum.Scheduling.Barriers;

/// <summary>
/// Reads /proc/stat, /proc/loadavg, /proc/meminfo and /proc/pressure/cpu. The files stay
/// open and are re-read with pread at offset 0 (which regenerates /proc content) into one
/// reusable buffer, and parsed in place: sampling allocates nothing.
/// </summary>
public sealed class ProcLoadSource : ILoadSource, IDisposable
{
    private readonly string _root;
    private readonly byte[] _buffer = new byte[16384];
    private SafeFileHandle? _stat, _loadavg, _meminfo, _pressure;
    private bool _pressureMissing;

    public ProcLoadSource(string root = "/proc") => _root = root;

    public LoadReading Read()
    {
        string? error = null;
        bool cpuOk = ReadCpu(out long busy, out long total, ref error);
        bool loadOk = ReadLoad(out double load1, ref error);
        bool memOk = ReadMem(out long memAvail, ref error);
        bool pressureOk = ReadPressure(out double pressure, ref error);
        return new LoadReading(busy, total, cpuOk, load1, loadOk, memAvail, memOk, pressure, pressureOk, !_pressureMissing, error);
    }

    private int ReadFile(ref SafeFileHandle? handle, string name, ref string? error)
    {
        try
        {
            handle ??= File.OpenHandle(Path.Combine(_root, name), FileMode.Open, FileAccess.Read);
            return RandomAccess.Read(handle, _buffer, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            handle?.Dispose();
            handle = null;
            error ??= $"{_root}/{name}: {e.Message}";
            return -1;
        }
    }

    private bool ReadCpu(out long busy, out long total, ref string? error)
    {
        busy = total = 0;
        int n = ReadFile(ref _stat, "stat", ref error);
        if (n <= 0) return false;
        var span = _buffer.AsSpan(0, n);
        // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
        if (!span.StartsWith("cpu "u8)) { error ??= "/proc/stat: no cpu line"; return false; }
        int pos = 4;
        long idle = 0;
        for (int field = 0; field < 8; field++)
        {
            if (!NextLong(span, ref pos, out long v)) break;
            total += v;
            if (field is 3 or 4) idle += v; // idle and iowait count as not busy, as in vmstat
        }
        busy = total - idle;
        return total > 0;
    }

    private bool ReadLoad(out double load1, ref string? error)
    {
        load1 = 0;
        int n = ReadFile(ref _loadavg, "loadavg", ref error);
        if (n <= 0) return false;
        int pos = 0;
        return NextDouble(_buffer.AsSpan(0, n), ref pos, out load1);
    }

    private bool ReadMem(out long bytes, ref string? error)
    {
        bytes = 0;
        int n = ReadFile(ref _meminfo, "meminfo", ref error);
        if (n <= 0) return false;
        var span = _buffer.AsSpan(0, n);
        int at = span.IndexOf("MemAvailable:"u8);
        if (at < 0) { error ??= "/proc/meminfo: no MemAvailable"; return false; }
        int pos = at + "MemAvailable:".Length;
        if (!NextLong(span, ref pos, out long kb)) return false;
        bytes = kb * 1024;
        return true;
    }

    private bool ReadPressure(out double avg10, ref string? error)
    {
        avg10 = 0;
        if (_pressureMissing) return false;
        if (_pressure is null && !File.Exists(Path.Combine(_root, "pressure/cpu")))
        {
            _pressureMissing = true;
            return false;
        }
        int n = ReadFile(ref _pressure, "pressure/cpu", ref error);
        if (n <= 0) return false;
        // "some avg10=1.23 avg60=... avg300=... total=..."
        var span = _buffer.AsSpan(0, n);
        int at = span.IndexOf("some avg10="u8);
        if (at < 0) { error ??= "/proc/pressure/cpu: no some avg10"; return false; }
        int pos = at + "some avg10=".Length;
        return NextDouble(span, ref pos, out avg10);
    }

    private static bool NextLong(ReadOnlySpan<byte> s, ref int pos, out long value)
    {
        value = 0;
        while (pos < s.Length && s[pos] == ' ') pos++;
        int start = pos;
        while (pos < s.Length && s[pos] >= '0' && s[pos] <= '9') value = value * 10 + (s[pos++] - '0');
        return pos > start;
    }

    private static bool NextDouble(ReadOnlySpan<byte> s, ref int pos, out double value)
    {
        if (!NextLong(s, ref pos, out long whole)) { value = 0; return false; }
        value = whole;
        if (pos < s.Length && s[pos] == '.')
        {
            pos++;
            double scale = 0.1;
            while (pos < s.Length && s[pos] >= '0' && s[pos] <= '9')
            {
                value += (s[pos++] - '0') * scale;
                scale /= 10;
            }
        }
        return true;
    }

    public void Dispose()
    {
        _stat?.Dispose();
        _loadavg?.Dispose();
        _meminfo?.Dispose();
        _pressure?.Dispose();
    }
}
