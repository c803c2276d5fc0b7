using Chaqum.EventLoop;
using Chaqum.Plans;

namespace Chaqum.Protocol.Commands;

/// <summary>waitplan [-t SECONDS] -- PLANID → S PLANID STATE once the plan has ended
/// (succeeded, failed or cancelled), S PLANID T when the timeout comes first. An id the
/// daemon does not know (never submitted, or ended so long ago that only the history has
/// it) is refused with E.</summary>
public sealed class WaitPlanCommand(CommandServices services) : ICommand
{
    public string Verb => "waitplan";
    public string OptionSpec => "t:";

    public void Run(CommandCall call)
    {
        TimeSpan? timeout = call.Options.Get('t') is { } t ? Values.Seconds(t, "-t (timeout)") : null;
        if (call.Operands.Count != 1) throw new ProtocolException("expected one PLANID");
        string id = call.Operands[0];
        var plan = services.Plans?.Find(id) ?? throw new ProtocolException($"unknown plan '{id}'");
        if (plan.Ended || timeout == TimeSpan.Zero)
        {
            Answer(call, plan);
            return;
        }
        ITimerHandle? timer = null;
        Action<Plan>? ended = null;
        ended = p =>
        {
            timer?.Cancel();
            Answer(call, p);
        };
        plan.OnEnded(ended);
        if (timeout is { } span) timer = services.Timers.After(span, () =>
        {
            plan.RemoveEndWatcher(ended);
            Answer(call, plan);
        });
        call.OnCancel(() =>
        {
            timer?.Cancel();
            plan.RemoveEndWatcher(ended);
        });
    }

    private static void Answer(CommandCall call, Plan plan) => call.Ok(plan.Id, plan.Ended ? plan.State.Word() : "T");
}
