namespace Chaqum.Protocol.Commands;

/// <summary>unrepeat -- REPEATID... → S. All ids must be known, or nothing is removed.</summary>
public sealed class UnrepeatCommand(CommandServices services) : ICommand
{
    public string Verb => "unrepeat";
    public string OptionSpec => "";

    public void Run(CommandCall call)
    {
        if (call.Operands.Count == 0) throw new ProtocolException("missing REPEATID operand");
        var unknown = call.Operands.Where(id => services.Scheduler.FindRepeat(id) is null).ToList();
        if (unknown.Count > 0) throw new ProtocolException($"unknown repeat id {string.Join(", ", unknown)}");
        foreach (var id in call.Operands) services.Scheduler.RemoveRepeat(id);
        call.Ok();
    }
}
