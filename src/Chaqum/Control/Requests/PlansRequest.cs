using Chaqum.Control.Messages;

namespace Chaqum.Control.Requests;

/// <summary>plans → the running plans and those ended recently, oldest first.</summary>
public sealed class PlansRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Plans.Name;

    public void Handle(ControlCall call)
    {
        var plans = (services.Plans?.Plans ?? []).OrderBy(p => p.SubmittedAt)
            .Select(p => PlanViews.Summary(p, services.Clock)).ToList();
        call.Reply(ControlVerbs.Plans, new PlansResult(plans));
    }
}
