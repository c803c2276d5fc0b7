using System.Text.Json;

namespace Chaqum.Client;

/// <summary>
/// A job of the tree, by id: one this job enqueued, or any id (see
/// <see cref="ChaqumJob.GetJob"/>). Its methods are shortcuts for the connection's
/// methods with this one id. (Not called Job: the daemon, which shares this assembly's
/// namespace for ShellWords, has its own Job.)
/// </summary>
public sealed class JobHandle
{
    internal JobHandle(ChaqumJob chaqum, string id)
    {
        Chaqum = chaqum;
        Id = id;
    }

    public ChaqumJob Chaqum { get; }

    /// <summary>The job id (<c>SCRIPT/N</c>).</summary>
    public string Id { get; }

    /// <summary>Waits until the job has ended or the timeout expires (null: for ever) and
    /// returns its status: <see cref="JobStatus.Pending"/> if it still runs,
    /// <see cref="JobStatus.Unknown"/> if the daemon does not know it (any more).</summary>
    public async Task<JobStatus> WaitAsync(TimeSpan? timeout = null, CancellationToken cancel = default) =>
        (await Chaqum.WaitAllAsync([Id], timeout, cancel).ConfigureAwait(false))[Id];

    /// <summary>Kills the job (default SIGTERM; names like <c>"KILL"</c>, <c>"SIGHUP"</c>,
    /// numbers like <c>"9"</c>) and returns its status, waiting up to
    /// <paramref name="timeout"/> for it to end (null: for ever).</summary>
    public async Task<JobStatus> KillAsync(string? signal = null, TimeSpan? timeout = null, CancellationToken cancel = default) =>
        (await Chaqum.KillAsync([Id], signal, timeout, cancel).ConfigureAwait(false))[Id];

    /// <summary>Sends the job a message of raw bytes.</summary>
    public Task<SentMessage> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancel = default) =>
        Chaqum.SendAsync(Id, data, cancel);

    /// <summary>Sends the job a text message (UTF-8).</summary>
    public Task<SentMessage> SendTextAsync(string text, CancellationToken cancel = default) =>
        Chaqum.SendTextAsync(Id, text, cancel);

    /// <summary>Sends the job a value as JSON (System.Text.Json).</summary>
    public Task<SentMessage> SendJsonAsync<T>(T value, JsonSerializerOptions? options = null, CancellationToken cancel = default) =>
        Chaqum.SendJsonAsync(Id, value, options, cancel);

    public override string ToString() => Id;
}
