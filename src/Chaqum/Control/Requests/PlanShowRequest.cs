using Chaqum.Control.Messages;

namespace Chaqum.Control.Requests;

/// <summary>plan_show {id} → the plan and its tree, each node with its state, runtime and
/// (steps) job and exit status.</summary>
public sealed class PlanShowRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.PlanShow.Name;

    public void Handle(ControlCall call)
    {
        var id = call.ArgsOf(ControlVerbs.PlanShow).Id ?? throw new ControlException("plan_show needs a plan id");
        var plan = services.Plans?.Find(id) ?? throw new ControlException($"no plan '{id}' known to the daemon (see chaqumctl history --plans)");
        call.Reply(ControlVerbs.PlanShow, PlanViews.Of(plan, services.Clock));
    }
}
