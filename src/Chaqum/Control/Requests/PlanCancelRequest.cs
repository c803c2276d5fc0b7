using Chaqum.Control.Messages;

namespace Chaqum.Control.Requests;

/// <summary>plan_cancel {id} → cancels a running plan: its queued steps are cancelled,
/// its running ones killed (TERM, KILL after the grace period, whole process groups).
/// Answers at once with the plan as it is then; it ends cancelled when its last running
/// step has gone. An ended plan is left as it is.</summary>
public sealed class PlanCancelRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.PlanCancel.Name;

    public void Handle(ControlCall call)
    {
        var id = call.ArgsOf(ControlVerbs.PlanCancel).Id ?? throw new ControlException("plan_cancel needs a plan id");
        var book = services.Plans;
        var plan = book?.Find(id) ?? throw new ControlException($"no plan '{id}' known to the daemon");
        book!.Cancel(plan, "cancelled by the operator");
        call.Reply(ControlVerbs.PlanCancel, PlanViews.Summary(plan, services.Clock));
    }
}
