namespace Chaqum.Protocol.Commands;

/// <summary>wait [-a | -f] [-t SECONDS] -- JOBID... → S JOBID STATUS...
/// "wait --" with no ids answers "S" at once: it doubles as a ping.</summary>
public sealed class WaitCommand(CommandServices services, string verb = "wait") : ICommand
{
    public string Verb => verb;
    public string OptionSpec => "aft:";

    public void Run(CommandCall call)
    {
        var o = call.Options;
        if (o.Has('a') && o.Has('f')) throw new ProtocolException("-a and -f exclude each other");
        TimeSpan? timeout = o.Get('t') is { } t ? Values.Seconds(t, "-t (timeout)") : null;
        if (call.Operands.Contains(call.Caller.Id)) throw new ProtocolException("a job cannot wait for itself");
        JobWait.Start(services, call, JobWait.Known(services, call), o.Has('f'), timeout);
    }
}
