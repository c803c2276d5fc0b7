using System.Runtime.InteropServices;
using System.Text;
using Chaqum.Native;

namespace Chaqum.Processes;

/// <summary>
/// Starts a helper program of the daemon's own (not a job: no fds 3 and 4, no tree
/// confinement, nothing in the scheduler), through posix_spawn like jobs are, because
/// System.Diagnostics.Process would reap behind the Reaper's back. The child gets
/// /dev/null on fd 0, the daemon's stdout and stderr on 1 and 2 (its log lines join the
/// daemon's), nothing above 2, its own process group, default signal dispositions and an
/// empty mask. The caller tracks its pid with the Reaper.
/// </summary>
public static unsafe class ChildProgram
{
    /// <summary>The pid, or 0 with errno set.</summary>
    public static int Start(string path, IReadOnlyList<string> args, IEnumerable<KeyValuePair<string, string>> extraEnvironment, out int errno)
    {
        var argv = new List<string> { path };
        argv.AddRange(args);
        var extra = extraEnvironment.ToList();
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            string key = (string)e.Key;
            if (extra.All(x => x.Key != key)) env.Add($"{key}={e.Value}");
        }
        env.AddRange(extra.Select(x => $"{x.Key}={x.Value}"));

        var handles = new List<nint>();
        nint Copy(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s + "\0");
            nint p = (nint)NativeMemory.Alloc((nuint)bytes.Length);
            bytes.CopyTo(new Span<byte>((void*)p, bytes.Length));
            handles.Add(p);
            return p;
        }
        var argvPtrs = argv.Select(Copy).Append(0).ToArray();
        var envPtrs = env.Select(Copy).Append(0).ToArray();
        nint pathPtr = Copy(path), devNull = Copy("/dev/null");
        void* attr = NativeMemory.AllocZeroed(Spawn.AttrSize);
        void* actions = NativeMemory.AllocZeroed(Spawn.FileActionsSize);
        void* sigset = stackalloc byte[Spawn.SigSetSize];
        try
        {
            int rc = Spawn.posix_spawnattr_init(attr);
            rc |= Spawn.posix_spawnattr_setflags(attr, Spawn.POSIX_SPAWN_SETPGROUP | Spawn.POSIX_SPAWN_SETSIGDEF | Spawn.POSIX_SPAWN_SETSIGMASK);
            rc |= Spawn.posix_spawnattr_setpgroup(attr, 0);
            Spawn.sigemptyset(sigset);
            rc |= Spawn.posix_spawnattr_setsigmask(attr, sigset);
            // Every signal back to SIG_DFL (as for jobs: not sigfillset, see Spawner).
            new Span<byte>(sigset, Spawn.SigSetSize).Fill(0xff);
            rc |= Spawn.posix_spawnattr_setsigdefault(attr, sigset);
            rc |= Spawn.posix_spawn_file_actions_init(actions);
            rc |= Spawn.posix_spawn_file_actions_addopen(actions, 0, (byte*)devNull, Spawn.O_RDONLY, 0);
            rc |= Spawn.posix_spawn_file_actions_addclosefrom_np(actions, 3);
            if (rc != 0)
            {
                errno = 12; // ENOMEM: the only way these fail
                return 0;
            }
            fixed (nint* a = argvPtrs)
            fixed (nint* e = envPtrs)
            {
                int result = Spawn.posix_spawn(out int pid, (byte*)pathPtr, actions, attr, (byte**)a, (byte**)e);
                errno = result;
                return result == 0 ? pid : 0;
            }
        }
        finally
        {
            Spawn.posix_spawn_file_actions_destroy(actions);
            Spawn.posix_spawnattr_destroy(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            foreach (var h in handles) NativeMemory.Free((void*)h);
        }
    }
}
