using Chaqum.Native;
using Mono.Unix;
using Mono.Unix.Native;

namespace Chaqum.Service;

/// <summary>
/// --user USER[:GROUP]: started as root, the daemon becomes USER before it creates any
/// file or spawns any job, so the state dir, control socket, logs and every job belong to
/// that user. Supplementary groups go first, then the gid, then the uid (after which
/// nothing can be changed back). HOME, USER and LOGNAME follow, as with su.
/// </summary>
public static class UserSwitch
{
    public static bool IsRoot => Syscall.geteuid() == 0;

    /// <summary>Throws <see cref="ArgumentException"/> with a message for the operator.</summary>
    public static void To(string spec)
    {
        int colon = spec.IndexOf(':');
        string userName = colon < 0 ? spec : spec[..colon];
        string? groupName = colon < 0 ? null : spec[(colon + 1)..];
        if (!IsRoot) throw new ArgumentException($"--user {spec}: only root can change user (running as uid {Syscall.geteuid()})");

        UnixUserInfo user;
        try { user = uint.TryParse(userName, out uint uid) ? new UnixUserInfo(uid) : new UnixUserInfo(userName); }
        catch (ArgumentException) { throw new ArgumentException($"--user: no such user '{userName}'"); }
        uint gid = (uint)user.GroupId;
        if (!string.IsNullOrEmpty(groupName))
        {
            try { gid = (uint)(uint.TryParse(groupName, out uint g) ? new UnixGroupInfo(g) : new UnixGroupInfo(groupName)).GroupId; }
            catch (ArgumentException) { throw new ArgumentException($"--user: no such group '{groupName}'"); }
        }

        if (Native.Groups.Set(user.UserName, gid, onlyThisGroup: !string.IsNullOrEmpty(groupName)) is { } e1)
            throw new ArgumentException($"--user {spec}: cannot set supplementary groups: {e1}");
        if (Syscall.setresgid(gid, gid, gid) != 0)
            throw new ArgumentException($"--user {spec}: setresgid({gid}): {Stdlib.strerror(Stdlib.GetLastError())}");
        uint uidValue = (uint)user.UserId;
        if (Syscall.setresuid(uidValue, uidValue, uidValue) != 0)
            throw new ArgumentException($"--user {spec}: setresuid({uidValue}): {Stdlib.strerror(Stdlib.GetLastError())}");
        if (Syscall.geteuid() != uidValue || Syscall.getegid() != gid)
            throw new ArgumentException($"--user {spec}: the switch did not take");

        Environment.SetEnvironmentVariable("HOME", user.HomeDirectory);
        Environment.SetEnvironmentVariable("USER", user.UserName);
        Environment.SetEnvironmentVariable("LOGNAME", user.UserName);
    }
}
