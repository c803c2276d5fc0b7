using Microsoft.Win32.SafeHandles;

namespace Chaqum.Client;

/// <summary>
/// The current job's connection to its chaqum daemon (fd 3 for commands, fd 4 for
/// replies). Every method is async and thread-safe: concurrent calls are sent one after
/// another, each gets its own reply. A command the daemon answers only later (a
/// <c>wait</c>, a <c>recvmsg</c>) holds up the calls behind it until it is answered.
/// An <c>E</c> reply throws <see cref="ChaqumException"/> with the daemon's reason; the
/// connection stays usable.
/// </summary>
/// <example><code>
/// await using var chaqum = ChaqumJob.Connect();
/// var job = await chaqum.EnqueueAsync("convert", [file], new EnqueueOptions { Group = "convert", MaxProcs = 2 });
/// var status = await job.WaitAsync(TimeSpan.FromMinutes(10));
/// </code></example>
public sealed partial class ChaqumJob : IAsyncDisposable, IDisposable
{
    private static readonly Lock OpenGate = new();
    private static ChaqumJob? s_open;

    private readonly Connection _connection;
    private readonly bool _ownsFds;

    private ChaqumJob(Stream commands, Stream replies, JobIdentity identity, bool ownsFds)
    {
        _connection = new Connection(commands, replies);
        Identity = identity;
        _ownsFds = ownsFds;
    }

    /// <summary>Connects over fds 3 and 4 of the current process. They are checked first:
    /// outside a chaqum job this throws instead of writing into some other descriptor.
    /// One connection per process: share it (it is thread-safe).</summary>
    /// <exception cref="ChaqumException">Not running as a chaqum job (the message says
    /// which of fds 3 and 4 is wrong, and why).</exception>
    /// <exception cref="InvalidOperationException">A connection is already open.</exception>
    public static ChaqumJob Connect()
    {
        lock (OpenGate)
        {
            if (s_open is not null)
                throw new InvalidOperationException("fds 3 and 4 are already wrapped by an open ChaqumJob: share that one");
            if (JobFds.Problem() is { } problem) throw new ChaqumException(problem);
            var commands = new FileStream(new SafeFileHandle(JobFds.Commands, ownsHandle: true), FileAccess.Write, bufferSize: 0);
            var replies = new FileStream(new SafeFileHandle(JobFds.Replies, ownsHandle: true), FileAccess.Read, bufferSize: 0);
            return s_open = new ChaqumJob(commands, replies, JobIdentity.Current, ownsFds: true);
        }
    }

    /// <summary>A connection over any pair of streams speaking the protocol: for tests
    /// (a fake daemon) and unusual set-ups. The streams are disposed with it.</summary>
    public static ChaqumJob FromStreams(Stream commands, Stream replies, JobIdentity? identity = null) =>
        new(commands, replies, identity ?? JobIdentity.Current, ownsFds: false);

    /// <summary>Who this job is (id, parent, tree, group, slot, attempt).</summary>
    public JobIdentity Identity { get; }

    /// <summary>A handle on any job id, to wait for it, kill it or message it.</summary>
    public JobHandle GetJob(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return new JobHandle(this, id);
    }

    /// <summary>A round trip that does nothing (<c>wait --</c>): checks the daemon answers.</summary>
    public Task PingAsync(CancellationToken cancel = default) =>
        _connection.ExchangeAsync(new CommandLine("wait").Operands([]), cancel: cancel);

    /// <summary>Closes fds 3 and 4 (or the streams). Calls still running fail.</summary>
    public void Dispose()
    {
        _connection.Dispose();
        if (!_ownsFds) return;
        lock (OpenGate)
        {
            if (s_open == this) s_open = null;
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
