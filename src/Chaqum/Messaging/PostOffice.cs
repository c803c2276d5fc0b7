using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Messaging;

/// <summary>
/// Messages between jobs. sendmsg files a message into the destination's mailbox; recvmsg
/// takes the oldest one (or waits for it); waitrecv learns whether messages were received.
/// A message whose destination ends before receiving it is dropped, so waitrecv never
/// waits for the impossible. Records are kept until waitrecv has reported their final
/// state once or their sender has ended, and never more than a fixed number.
/// </summary>
public sealed class PostOffice
{
    public const int MaxMessageBytes = 16 * 1024 * 1024;
    public const long MaxMailboxBytes = 64L * 1024 * 1024;
    /// <summary>All mailboxes together: the per-job bound alone would let a tree with many
    /// queued jobs (each may receive) hold any amount of memory.</summary>
    public const long MaxTotalBytes = 1024L * 1024 * 1024;
    public const int MaxRecords = 100_000;

    private readonly Dictionary<string, Message> _messages = new();
    private readonly Queue<Message> _order = new();
    private readonly Dictionary<Job, Mailbox> _mailboxes = new(ReferenceEqualityComparer.Instance);
    private readonly ILogger _log;
    private long _next;
    private long _totalBytes;   // unread, in all mailboxes

    private sealed class Mailbox
    {
        public readonly Queue<Message> Waiting = new();
        public long Bytes;
        public Action<Message>? Receiver;
    }

    private readonly long _maxTotalBytes;

    public PostOffice(ILogger log, long maxTotalBytes = MaxTotalBytes)
    {
        _log = log;
        _maxTotalBytes = maxTotalBytes;
    }

    public Message? Find(string id) => _messages.GetValueOrDefault(id);

    /// <summary>One refusal for every destination that cannot receive: a job whose result
    /// was taken is forgotten, so "unknown" and "ended" cannot be told apart reliably, and
    /// the sender should not have to know which of the two it was.</summary>
    public static string NoLiveJob(string id) => $"no live job '{id}' (it has ended, or never existed)";

    /// <exception cref="Protocol.ProtocolException">The destination has ended or its mailbox is full.</exception>
    public Message Send(Job sender, Job destination, byte[] data)
    {
        if (!destination.State.IsActive())
            throw new Protocol.ProtocolException(NoLiveJob(destination.Id));
        var box = MailboxOf(destination);
        if (box.Bytes + data.Length > MaxMailboxBytes)
            throw new Protocol.ProtocolException($"mailbox of {destination.Id} is full ({box.Bytes} bytes unread)");
        if (_totalBytes + data.Length > _maxTotalBytes)
            throw new Protocol.ProtocolException($"too many messages wait unread ({_totalBytes} bytes for all jobs together)");

        var message = new Message($"msg:{++_next}", data, sender, destination);
        _messages[message.Id] = message;
        _order.Enqueue(message);
        Trim();
        _log.LogDebug("{Job}: {Message} of {Bytes} bytes for {Destination}", sender.Id, message.Id, data.Length, destination.Id);

        if (box.Receiver is { } receiver)
        {
            box.Receiver = null;
            receiver(message);
            message.Settle(MessageState.Received);
        }
        else
        {
            box.Waiting.Enqueue(message);
            box.Bytes += data.Length;
            _totalBytes += data.Length;
        }
        return message;
    }

    /// <summary>Takes the oldest message for the job, or registers to be handed the next
    /// one. Returns the message taken now, or null (then `receiver` is called later, unless
    /// CancelReceive is called first).</summary>
    public Message? Receive(Job job, Action<Message> receiver)
    {
        var box = MailboxOf(job);
        if (box.Waiting.TryDequeue(out var message))
        {
            box.Bytes -= message.Data.Length;
            _totalBytes -= message.Data.Length;
            return message;
        }
        box.Receiver = receiver;
        return null;
    }

    /// <summary>The message handed out by Receive has been written to the job.</summary>
    public void Received(Message message) => message.Settle(MessageState.Received);

    public void CancelReceive(Job job)
    {
        if (_mailboxes.TryGetValue(job, out var box)) box.Receiver = null;
    }

    /// <summary>waitrecv has reported the message's final state: forget it.</summary>
    public void Consume(Message message)
    {
        if (message.Final) _messages.Remove(message.Id);
    }

    /// <summary>A job ended: messages waiting for it are dropped, and messages it sent
    /// that have settled are forgotten (nobody can ask about them any more).</summary>
    public void JobEnded(Job job)
    {
        if (_mailboxes.Remove(job, out var box))
        {
            _totalBytes -= box.Bytes;
            foreach (var message in box.Waiting)
            {
                _log.LogDebug("{Message} for {Job} dropped unread: the job has ended", message.Id, job.Id);
                message.Settle(MessageState.Dropped);
            }
        }
    }

    private Mailbox MailboxOf(Job job)
    {
        if (!_mailboxes.TryGetValue(job, out var box)) _mailboxes[job] = box = new Mailbox();
        return box;
    }

    private void Trim()
    {
        while (_order.Count > 0)
        {
            var oldest = _order.Peek();
            bool gone = !_messages.ContainsKey(oldest.Id);
            bool senderGone = oldest.Final && !oldest.Sender.State.IsActive();
            if (gone || senderGone || _order.Count > MaxRecords)
            {
                _order.Dequeue();
                if (!gone && (senderGone || _order.Count >= MaxRecords)) _messages.Remove(oldest.Id);
                continue;
            }
            break;
        }
    }
}
