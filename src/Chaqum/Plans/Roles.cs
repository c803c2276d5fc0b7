namespace Chaqum.Plans;

/// <summary>
/// Where a plan's role runs. Today a role is a chaqum group of the same name, so
/// `group -m 2 convert` (from init, or chaqumctl) caps a plan's convert steps together
/// with every other job of that group; no role is the ungrouped jobs. This is the one
/// place that knows it: when groups can run on a cluster, a role maps to one worker of
/// that cluster here, and nothing else changes.
/// </summary>
public static class Roles
{
    /// <summary>The group a step of this role joins; null for the ungrouped jobs.</summary>
    public static string? GroupFor(string? role) => string.IsNullOrEmpty(role) ? null : role;

    /// <summary>Why a role name cannot be used, or null when it can.</summary>
    public static string? Refusal(string role) =>
        role.Length == 0 ? "empty role"
        : role == Scheduling.Scheduler.UngroupedName ? $"role '{role}' stands for the ungrouped jobs; choose another"
        : role.Contains('\0') ? "role contains a NUL byte"
        : null;
}
