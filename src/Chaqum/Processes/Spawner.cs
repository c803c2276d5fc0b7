using System.Runtime.InteropServices;
using System.Text;
using Chaqum.Native;
using Chaqum.Scheduling;
using Mono.Unix.Native;

namespace Chaqum.Processes;

/// <summary>
/// Starts job processes. The constraints that shape this file:
///
///  - A job must get exactly: fd 0 on /dev/null, fd 1 and fd 2 on two pipes we read,
///    fd 3 the write end of the command pipe, fd 4 the read end of the reply pipe, and
///    nothing else. System.Diagnostics.Process cannot place descriptors 3 and 4, and
///    fork() in a multi-threaded managed runtime is unsafe, so we use glibc's
///    posix_spawn with file actions (dup2 onto 0..4, then closefrom 5).
///  - Every descriptor the daemon creates is O_CLOEXEC, so nothing leaks into a job even
///    if closefrom were missing; dup2 clears the flag on the five we hand over. The
///    child-side ends are first moved above 4, so no dup2 can clobber another source.
///  - The .NET runtime ignores SIGPIPE and blocks nothing, but handles several signals;
///    a job must start with default dispositions and an empty mask, so the spawn
///    attributes reset every signal (SETSIGDEF with a full set) and set an empty mask.
///  - Each job leads its own process group (SETPGROUP 0), so killing a job kills
///    everything it started that stayed in its group.
///  - glibc's posix_spawn uses CLONE_VFORK and returns the child's exec errno, so an
///    exec failure (ENOENT, EACCES, ENOEXEC...) is reported here, never as a hang.
///  - What runs is what was checked: the script is opened and checked just before the
///    spawn (<see cref="OpenedScript"/>), and the child execs "/proc/self/fd/5", a reopen
///    of that descriptor made by the file actions (a magic link: the same inode, no name
///    looked up). For a binary fd 5 is close-on-exec and gone once it runs. A "#!" script
///    is different: the kernel hands its interpreter the name "/proc/self/fd/5", which the
///    interpreter opens after exec, so for scripts fd 5 stays open in the job (as with
///    fexecve(3)); any other name could be swapped between our check and that open.
///  - Only the event-loop thread spawns, so the argv/envp buffers below are reused.
/// </summary>
public sealed unsafe class Spawner : IDisposable
{
    private readonly byte[] _root;
    // The tree root, held open: every script is looked up beneath this very directory.
    private readonly int _rootFd;
    // The daemon's own environment, encoded once into a pinned block that never moves;
    // _baseEnvironment holds pointers into it.
    private readonly byte[] _baseBlock;
    private readonly nint[] _baseEnvironment;
    // The same for programs (srun, scancel): without the daemon's own SLURM_* variables
    // but SLURM_CONF. A daemon that runs inside a Slurm allocation would otherwise have
    // srun start every job as a step of that allocation, and a scancel of "the job's"
    // Slurm job id would then hit the daemon's own allocation and every sibling step.
    private readonly nint[] _programEnvironment;
    private readonly void* _attr;
    private static readonly byte[] DevNull = "/dev/null\0"u8.ToArray();

    public Spawner(string workingDirectory, IEnumerable<KeyValuePair<string, string>> environment)
    {
        _root = NullTerminated(workingDirectory);
        _rootFd = Files.OpenAt(Files.AT_FDCWD, workingDirectory, Files.O_PATH | Files.O_DIRECTORY | Files.O_CLOEXEC);
        if (_rootFd < 0) throw new IOException($"{workingDirectory}: {Native.Errno.Text(Native.Errno.Last)}");
        var entries = environment.Select(kv => NullTerminated($"{kv.Key}={kv.Value}")).ToArray();
        _baseBlock = GC.AllocateArray<byte>(Math.Max(1, entries.Sum(e => e.Length)), pinned: true);
        _baseEnvironment = new nint[entries.Length];
        int offset = 0;
        fixed (byte* block = _baseBlock)
        {
            for (int i = 0; i < entries.Length; i++)
            {
                entries[i].CopyTo(_baseBlock, offset);
                _baseEnvironment[i] = (nint)(block + offset);
                offset += entries[i].Length;
            }
        }
        var keys = environment.Select(kv => kv.Key).ToArray();
        _programEnvironment = _baseEnvironment
            .Where((_, i) => !keys[i].StartsWith("SLURM_", StringComparison.Ordinal) || keys[i] == "SLURM_CONF").ToArray();

        _attr = NativeMemory.AllocZeroed(Spawn.AttrSize);
        void* sigset = stackalloc byte[Spawn.SigSetSize];
        Check(Spawn.posix_spawnattr_init(_attr), "posix_spawnattr_init");
        Check(Spawn.posix_spawnattr_setflags(_attr,
            Spawn.POSIX_SPAWN_SETPGROUP | Spawn.POSIX_SPAWN_SETSIGDEF | Spawn.POSIX_SPAWN_SETSIGMASK), "setflags");
        Check(Spawn.posix_spawnattr_setpgroup(_attr, 0), "setpgroup");
        Spawn.sigemptyset(sigset);
        Check(Spawn.posix_spawnattr_setsigmask(_attr, sigset), "setsigmask");
        // Every signal back to SIG_DFL. Not sigfillset: it leaves out glibc's internal
        // signals 32 and 33, which posix_spawn then sets to SIG_IGN in the child, and an
        // ignored disposition would survive exec into the job.
        new Span<byte>(sigset, Spawn.SigSetSize).Fill(0xff);
        Check(Spawn.posix_spawnattr_setsigdefault(_attr, sigset), "setsigdefault");
    }

    /// <summary>The daemon's ends of a job's pipes, all non-blocking.</summary>
    public readonly record struct JobPipes(int Stdout, int Stderr, int Commands, int Replies);

    /// <summary>Spawns the script (relative to the tree root, as resolved at enqueue) with
    /// args; extra environment entries are added to the base ones. Returns the pid, or 0
    /// with either a refusal (the script is no longer what may run) or errno set.</summary>
    public int Start(ScriptPath script, string[] args, IReadOnlyList<KeyValuePair<string, string>> extraEnvironment,
        out JobPipes pipes, out int errno, out string? refusal)
    {
        pipes = default;
        using var opened = OpenedScript.Open(_rootFd, script.Relative, out refusal, out errno);
        if (opened is null) return 0;
        // Each pair is (read end, write end), as pipe(2) makes it. We keep outR, errR, cmdR
        // and repW; the job gets outW, errW, cmdW and repR (its fds 1, 2, 3 and 4).
        int outR = -1, outW = -1, errR = -1, errW = -1, cmdR = -1, cmdW = -1, repR = -1, repW = -1;
        try
        {
            (outR, outW) = Pipes.Create();
            (errR, errW) = Pipes.Create();
            (cmdR, cmdW) = Pipes.Create();
            (repR, repW) = Pipes.Create();
            outW = Pipes.MoveAbove(outW, 5);
            errW = Pipes.MoveAbove(errW, 5);
            cmdW = Pipes.MoveAbove(cmdW, 5);
            repR = Pipes.MoveAbove(repR, 5);
        }
        catch (IOException e)
        {
            CloseAll(outR, outW, errR, errW, cmdR, cmdW, repR, repW);
            errno = e.HResult;
            return 0;
        }

        int pid = SpawnWith(script.Absolute, null, opened.Fd, opened.Interpreted, args, extraEnvironment, -1, outW, errW, cmdW, repR, out errno);
        // The child has its copies (or does not exist): close ours of its ends.
        CloseAll(outW, errW, cmdW, repR);
        if (pid == 0)
        {
            CloseAll(outR, errR, cmdR, repW);
            return 0;
        }
        Pipes.SetNonBlockingFresh(outR);
        Pipes.SetNonBlockingFresh(errR);
        Pipes.SetNonBlockingFresh(cmdR);
        Pipes.SetNonBlockingFresh(repW);
        pipes = new JobPipes(outR, errR, cmdR, repW);
        return pid;
    }

    /// <summary>Whether the script may run, checked as a spawn checks it (for jobs that run
    /// elsewhere, by path): null if it may, else the refusal.</summary>
    public string? Check(ScriptPath script)
    {
        using var opened = OpenedScript.Open(_rootFd, script.Relative, out string? refusal, out int errno);
        return opened is not null ? null : refusal ?? Native.Errno.Text(errno);
    }

    /// <summary>Spawns a program of the machine (srun, scancel: an absolute path, no tree
    /// script) in a process group of its own, with the daemon's base environment plus
    /// extra, fd 0 on stdin (or /dev/null when -1), fds 1 and 2 on stdout and stderr, and
    /// nothing else. The descriptors given stay the caller's to close. Returns the pid,
    /// or 0 with errno set.</summary>
    public int StartProgram(string program, string[] args, IReadOnlyList<KeyValuePair<string, string>> extraEnvironment,
        int stdin, int stdout, int stderr, out int errno)
    {
        int pid;
        int inFd = -1, outFd = -1, errFd = -1;
        try
        {
            // dup2 in the child must not clobber one source with another: all above 4.
            inFd = stdin < 0 ? -1 : Pipes.MoveAbove(Dup(stdin), 5);
            outFd = Pipes.MoveAbove(Dup(stdout), 5);
            errFd = stderr == stdout ? outFd : Pipes.MoveAbove(Dup(stderr), 5);
            pid = SpawnWith(program, program, -1, false, args, extraEnvironment, inFd, outFd, errFd, -1, -1, out errno);
        }
        catch (IOException e)
        {
            errno = e.HResult;
            pid = 0;
        }
        CloseAll(inFd, outFd, errFd == outFd ? -1 : errFd);
        return pid;
    }

    private static int Dup(int fd)
    {
        int copy = Pipes.DupCloexec(fd);
        if (copy < 0) throw new IOException($"dup: {Native.Errno.Text(Native.Errno.Last)}", Native.Errno.Last);
        return copy;
    }

    /// <summary>Where the child finds its script: what it execs, and (for "#!" scripts) the
    /// name its interpreter opens.</summary>
    public const int ScriptFd = 5;
    private static readonly byte[] ExecPath = "/proc/self/fd/5\0"u8.ToArray();

    // Reused by every spawn (the loop thread only): the strings of argv and the extra
    // environment, the pointer arrays, and the file actions.
    private byte[] _arena = new byte[4096];
    private int[] _offsets = new int[64];
    private nint[] _argv = new nint[32];
    private nint[] _envp = new nint[64];
    private readonly void* _actions = NativeMemory.AllocZeroed(Spawn.FileActionsSize);

    /// <param name="program">null: exec the opened script on scriptFd (a job); else the
    /// absolute path of a program to exec, with no script descriptor.</param>
    /// <param name="inR">the child's fd 0; -1 opens /dev/null.</param>
    /// <param name="cmdW">the child's fd 3 (with repR its fd 4); -1: neither, for a program.</param>
    private int SpawnWith(string path, string? program, int scriptFd, bool interpreted, string[] args, IReadOnlyList<KeyValuePair<string, string>> extra,
        int inR, int outW, int errW, int cmdW, int repR, out int errno)
    {
        // One arena holds every string we pass; pointers into it go into argv and envp. The
        // script's descriptor path comes last, after argv and the environment.
        int strings = 1 + args.Length + extra.Count + 1, used = 0;
        if (_offsets.Length < strings) _offsets = new int[strings * 2];
        _offsets[0] = Append(ref used, path);
        for (int i = 0; i < args.Length; i++) _offsets[1 + i] = Append(ref used, args[i]);
        for (int i = 0; i < extra.Count; i++) _offsets[1 + args.Length + i] = Append(ref used, extra[i].Key, extra[i].Value);
        int scriptPath = Append(ref used, program ?? OpenedScript.ProcSelfFd(scriptFd));

        var baseEnvironment = program is null ? _baseEnvironment : _programEnvironment;
        int argc = 1 + args.Length, envCount = baseEnvironment.Length + extra.Count;
        if (_argv.Length < argc + 1) _argv = new nint[(argc + 1) * 2];
        if (_envp.Length < envCount + 1) _envp = new nint[(envCount + 1) * 2];
        baseEnvironment.CopyTo(_envp, 0);
        var actions = _actions;
        fixed (byte* arenaPtr = _arena)
        fixed (byte* root = _root)
        fixed (byte* devNull = DevNull)
        fixed (byte* execPath = ExecPath)
        fixed (nint* argvPtr = _argv)
        fixed (nint* envpPtr = _envp)
        {
            for (int i = 0; i < argc; i++) argvPtr[i] = (nint)(arenaPtr + _offsets[i]);
            argvPtr[argc] = 0;
            for (int i = 0; i < extra.Count; i++) envpPtr[baseEnvironment.Length + i] = (nint)(arenaPtr + _offsets[argc + i]);
            envpPtr[envCount] = 0;

            Spawn.posix_spawn_file_actions_init(actions);
            try
            {
                int rc = inR < 0 ? Spawn.posix_spawn_file_actions_addopen(actions, 0, devNull, Spawn.O_RDONLY, 0)
                    : Spawn.posix_spawn_file_actions_adddup2(actions, inR, 0);
                rc |= Spawn.posix_spawn_file_actions_adddup2(actions, outW, 1);
                rc |= Spawn.posix_spawn_file_actions_adddup2(actions, errW, 2);
                if (program is null)
                {
                    rc |= Spawn.posix_spawn_file_actions_adddup2(actions, cmdW, 3);
                    rc |= Spawn.posix_spawn_file_actions_adddup2(actions, repR, 4);
                    // 0..4 are taken, so once 5 is closed the reopen lands on 5 itself, and
                    // O_CLOEXEC (binaries) survives: no dup2 would clear it.
                    rc |= Spawn.posix_spawn_file_actions_addclose(actions, ScriptFd);
                    rc |= Spawn.posix_spawn_file_actions_addopen(actions, ScriptFd, arenaPtr + scriptPath,
                        Files.O_PATH | (interpreted ? 0 : Files.O_CLOEXEC), 0);
                    rc |= Spawn.posix_spawn_file_actions_addclosefrom_np(actions, ScriptFd + 1);
                }
                else
                {
                    rc |= Spawn.posix_spawn_file_actions_addclosefrom_np(actions, 3);
                }
                rc |= Spawn.posix_spawn_file_actions_addchdir_np(actions, root);
                if (rc != 0)
                {
                    errno = Native.Errno.Last != 0 ? Native.Errno.Last : 12; // ENOMEM
                    return 0;
                }

                int result = Spawn.posix_spawn(out int pid, program is null ? execPath : arenaPtr + scriptPath,
                    actions, _attr, (byte**)argvPtr, (byte**)envpPtr);
                errno = result;
                return result == 0 ? pid : 0;
            }
            finally
            {
                Spawn.posix_spawn_file_actions_destroy(actions);
            }
        }
    }

    /// <summary>Copies s (or "key=value"), NUL-terminated, into the arena; its offset.</summary>
    private int Append(ref int used, string s, string? value = null)
    {
        int max = Encoding.UTF8.GetMaxByteCount(s.Length + (value?.Length + 1 ?? 0)) + 1;
        if (used + max > _arena.Length) Array.Resize(ref _arena, Math.Max(_arena.Length * 2, used + max));
        int offset = used;
        used += Encoding.UTF8.GetBytes(s, _arena.AsSpan(used));
        if (value is not null)
        {
            _arena[used++] = (byte)'=';
            used += Encoding.UTF8.GetBytes(value, _arena.AsSpan(used));
        }
        _arena[used++] = 0;
        return offset;
    }

    private static byte[] NullTerminated(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    private static void CloseAll(params int[] fds)
    {
        foreach (int fd in fds) if (fd >= 0) Syscall.close(fd);
    }

    private static void Check(int rc, string what)
    {
        if (rc != 0) throw new IOException($"{what}: {Native.Errno.Text(rc)}");
    }

    public void Dispose()
    {
        Syscall.close(_rootFd);
        Spawn.posix_spawnattr_destroy(_attr);
        NativeMemory.Free(_attr);
        NativeMemory.Free(_actions);
    }
}
