using Chaqum.EventLoop;
using Chaqum.Messaging;
using Microsoft.Extensions.Logging;

namespace Chaqum.Protocol.Commands;

/// <summary>waitrecv [-t SECONDS] -- MSGID... → S MSGID (R|T)... once every message was
/// received (R) or can no longer be (its destination ended: T), or at the timeout.</summary>
public sealed class WaitRecvCommand(CommandServices services) : ICommand
{
    public string Verb => "waitrecv";
    public string OptionSpec => "t:";

    public void Run(CommandCall call)
    {
        TimeSpan? timeout = call.Options.Get('t') is { } t ? Values.Seconds(t, "-t (timeout)") : null;
        var messages = new List<Message>();
        foreach (var id in call.Operands.Distinct())
        {
            if (services.PostOffice.Find(id) is { } m) messages.Add(m);
            else services.Log.LogWarning("{Job}: waitrecv: unknown message id '{Id}' left out of the reply", call.Caller.Id, id);
        }

        ITimerHandle? timer = null;
        bool done = false;
        Action<Message>? watcher = null;
        void Answer()
        {
            if (done) return;
            done = true;
            timer?.Cancel();
            foreach (var m in messages) m.RemoveWatcher(watcher!);
            var words = new List<string>();
            foreach (var m in messages)
            {
                words.Add(m.Id);
                words.Add(m.State == MessageState.Received ? "R" : "T");
                if (m.Final) services.PostOffice.Consume(m);
            }
            call.Ok(words);
        }
        watcher = _ => { if (messages.All(m => m.Final)) Answer(); };

        if (messages.All(m => m.Final) || timeout == TimeSpan.Zero) { Answer(); return; }
        foreach (var m in messages) if (!m.Final) m.OnFinal(watcher);
        if (timeout is { } span) timer = services.Timers.After(span, Answer);
        call.OnCancel(() =>
        {
            done = true;
            timer?.Cancel();
            foreach (var m in messages) m.RemoveWatcher(watcher);
        });
    }
}
