namespace Chaqum.Protocol.Commands;

/// <summary>group [-m MAXPROC] [-c MAXCPU] [-l MAXLOAD] [-M MINMEM] [-P MAXPRESSURE] [-B FAILURES] -- GROUP → S</summary>
public sealed class GroupCommand(CommandServices services) : ICommand
{
    public string Verb => "group";
    public string OptionSpec => "m:c:l:M:P:B:";

    public void Run(CommandCall call)
    {
        if (call.Operands.Count != 1) throw new ProtocolException("expected exactly one GROUP operand");
        if (call.Operands[0].Length == 0) throw new ProtocolException("empty group name");
        services.Scheduler.UpdateGroup(call.Operands[0], JobOptionsParser.Limits(call.Options));
        call.Ok();
    }
}
