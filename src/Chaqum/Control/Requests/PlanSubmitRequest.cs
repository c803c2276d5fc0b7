using System.Text;
using Chaqum.Control.Messages;
using Chaqum.Plans;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Control.Requests;

/// <summary>plan_submit {document, follow} → the plan's id and step count; a plan with a
/// fault is refused whole with the JSON path of it. With follow (chaqumctl plan submit
/// --wait), each step's start and end is an event, and the answer, when the plan ends,
/// is the plan as plan_show gives it.</summary>
public sealed class PlanSubmitRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.PlanSubmit.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.PlanSubmit);
        var book = services.Plans ?? throw new ControlException("plans are not available");
        var document = args.Document ?? throw new ControlException("plan_submit needs the plan document");
        Plan plan;
        try { plan = book.Submit(Encoding.UTF8.GetBytes(document), submitter: null); }
        catch (PlanRefusedException e)
        {
            // As a job's refused command is: the operator's mistake is in the log too.
            services.Log.LogWarning("control: plan refused: {Reason}", Logging.OneLineProperties.OneLine(e.Message));
            throw new ControlException($"plan refused: {e.Message}");
        }
        if (!args.Follow)
        {
            call.Reply(ControlVerbs.PlanSubmit, new PlanSubmitResult(plan.Id, plan.Steps.Count));
            return;
        }
        Action<StepNode, Scheduling.Job> progress = (step, job) => call.Event(new ControlEvent
        {
            Step = new PlanStepEvent(plan.Id, job.Id, step.PathIn(plan.Id), PlanViews.StepState(step, plan),
                job.State.IsFinished() ? job.Status.Wire : null),
        });
        Action<Plan> ended = p =>
        {
            p.Progress -= progress;
            call.Reply(ControlVerbs.PlanRun, PlanViews.Of(p, services.Clock));
        };
        plan.Progress += progress;
        // Steps that started within the submit itself (nothing held them back) were
        // before anyone followed: told now, so the viewer misses no start.
        foreach (var step in plan.Steps)
            if (step.Job is { State: JobState.Running } running) progress(step, running);
        plan.OnEnded(ended);
        call.OnCancel(() =>
        {
            plan.Progress -= progress;
            plan.RemoveEndWatcher(ended);
        });
    }
}
