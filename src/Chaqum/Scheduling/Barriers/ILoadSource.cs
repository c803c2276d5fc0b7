namespace Chaqum.Scheduling.Barriers;

/// <summary>Raw load counters as read at one moment; unit tests substitute a fake.</summary>
public readonly record struct LoadReading(
    long CpuBusyTicks, long CpuTotalTicks, bool CpuOk,
    double Load1, bool LoadOk,
    long MemAvailable, bool MemOk,
    double CpuPressure, bool PressureOk, bool PressureSupported,
    string? Error);

public interface ILoadSource
{
    LoadReading Read();
}
