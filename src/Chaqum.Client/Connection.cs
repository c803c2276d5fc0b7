using System.Text;

namespace Chaqum.Client;

/// <summary>
/// The fd pair to the daemon, one exchange at a time: a command (plus, for sendmsg, its
/// bytes) written, its one reply read. Concurrent callers queue on a semaphore, so the
/// daemon sees whole commands and each caller gets its own reply.
///
/// Cancellation: a call may be cancelled while it waits for its turn. Once its command is
/// written the reply must be read, or the next caller would get it; a call cancelled
/// then throws <see cref="OperationCanceledException"/> and leaves the connection broken
/// (every later call throws <see cref="ChaqumException"/>).
/// </summary>
internal sealed class Connection : IDisposable
{
    private readonly Stream _commands;
    private readonly Stream _replies;
    private readonly ReplyReader _reader;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private volatile string? _broken;
    private volatile bool _disposed;

    public Connection(Stream commands, Stream replies)
    {
        _commands = commands;
        _replies = replies;
        _reader = new ReplyReader(replies);
    }

    /// <summary>Sends one command and returns its <c>S</c> reply (or <c>T</c> when
    /// <paramref name="timeoutAllowed"/>); an <c>E</c> reply is thrown as a refusal.</summary>
    public async Task<Reply> ExchangeAsync(CommandLine command, ReadOnlyMemory<byte>? payload = null,
        bool hasBody = false, bool timeoutAllowed = false, CancellationToken cancel = default)
    {
        string line = command.ToString();
        byte[] bytes = Encode(line, payload);
        await _turn.WaitAsync(cancel).ConfigureAwait(false);
        Task<Reply> exchange;
        try
        {
            ThrowIfUnusable();
            exchange = ExchangeLockedAsync(line, bytes, hasBody, timeoutAllowed);
        }
        catch
        {
            _turn.Release();
            throw;
        }
        // The turn is handed back only when the exchange is complete, however the caller
        // stops waiting for it (its failure is then observed here).
        _ = exchange.ContinueWith(done => { _ = done.Exception; _turn.Release(); }, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        if (!cancel.CanBeCanceled) return await exchange.ConfigureAwait(false);
        try
        {
            return await exchange.WaitAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested && !exchange.IsCompleted)
        {
            Break($"a call ('{line}') was cancelled while it waited for its reply");
            throw;
        }
    }

    private async Task<Reply> ExchangeLockedAsync(string line, byte[] bytes, bool hasBody, bool timeoutAllowed)
    {
        try
        {
            await _commands.WriteAsync(bytes).ConfigureAwait(false);
            await _commands.FlushAsync().ConfigureAwait(false);
            string reply = await _reader.ReadLineAsync().ConfigureAwait(false);
            var result = await ParseAsync(line, reply, hasBody, timeoutAllowed).ConfigureAwait(false);
            if (_reader.HasLeftover) throw Break($"the daemon sent more than one reply to '{line}'");
            return result;
        }
        catch (ChaqumException e) when (e.IsRefusal)
        {
            throw;
        }
        catch (ChaqumException e)
        {
            Break(e.Message);
            throw;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            if (_disposed) throw new ObjectDisposedException(nameof(ChaqumJob));
            var failure = new ChaqumException($"talking to the chaqum daemon failed: {e.Message}", e);
            Break(failure.Message);
            throw failure;
        }
    }

    private async Task<Reply> ParseAsync(string line, string reply, bool hasBody, bool timeoutAllowed)
    {
        if (reply == "S" || reply.StartsWith("S ", StringComparison.Ordinal))
        {
            List<string> words;
            try { words = ShellWords.Split(reply.AsSpan(1)); }
            catch (FormatException e) { throw new ChaqumException($"unreadable reply to '{line}': {reply} ({e.Message})"); }
            if (!hasBody) return new Reply(words);
            if (words.Count != 1 || !int.TryParse(words[0], System.Globalization.NumberStyles.None, null, out int length))
                throw new ChaqumException($"unreadable reply to '{line}': {reply}");
            byte[] body = await _reader.ReadExactlyAsync(length + 1).ConfigureAwait(false);
            if (body[^1] != '\n') throw new ChaqumException($"the message body of {length} bytes is not followed by LF");
            return new Reply(words, body[..^1]);
        }
        if (reply == "E" || reply.StartsWith("E ", StringComparison.Ordinal))
            throw ChaqumException.Refused(reply.Length > 2 ? reply[2..] : "", line);
        if (reply == "T" && timeoutAllowed) return Reply.Timeout;
        throw new ChaqumException($"unexpected reply to '{line}': {reply}");
    }

    private static byte[] Encode(string line, ReadOnlyMemory<byte>? payload)
    {
        int size = Encoding.UTF8.GetByteCount(line) + 1 + (payload is { } p ? p.Length + 1 : 0);
        var bytes = new byte[size];
        int at = Encoding.UTF8.GetBytes(line, bytes);
        bytes[at++] = (byte)'\n';
        if (payload is { } body)
        {
            body.Span.CopyTo(bytes.AsSpan(at));
            bytes[^1] = (byte)'\n';
        }
        return bytes;
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, typeof(ChaqumJob));
        if (_broken is { } why) throw new ChaqumException($"the connection to the chaqum daemon is unusable: {why}");
    }

    private ChaqumException Break(string why)
    {
        _broken ??= why;
        return new ChaqumException(why);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // A read blocked in another thread keeps its fd until it returns; closing here
        // does not wait for it.
        _commands.Dispose();
        _replies.Dispose();
    }
}
