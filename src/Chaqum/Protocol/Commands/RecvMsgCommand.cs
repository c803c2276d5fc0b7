using Chaqum.EventLoop;

namespace Chaqum.Protocol.Commands;

/// <summary>recvmsg [-t SECONDS] → "S LENGTH", LF, the bytes, LF; or "T" at the timeout.
/// Takes the oldest message addressed to the calling job.</summary>
public sealed class RecvMsgCommand(CommandServices services) : ICommand
{
    public string Verb => "recvmsg";
    public string OptionSpec => "t:";

    public void Run(CommandCall call)
    {
        if (call.Operands.Count > 0) throw new ProtocolException("takes no operands");
        TimeSpan? timeout = call.Options.Get('t') is { } t ? Values.Seconds(t, "-t (timeout)") : null;
        var postOffice = services.PostOffice;
        var job = call.Caller;

        ITimerHandle? timer = null;
        var now = postOffice.Receive(job, message =>
        {
            timer?.Cancel();
            call.Message(message.Data);
        });
        if (now is not null)
        {
            call.Message(now.Data);
            postOffice.Received(now);
            return;
        }
        if (timeout is { } span)
        {
            timer = services.Timers.After(span, () =>
            {
                postOffice.CancelReceive(job);
                call.TimedOut();
            });
        }
        call.OnCancel(() =>
        {
            timer?.Cancel();
            postOffice.CancelReceive(job);
        });
    }
}
