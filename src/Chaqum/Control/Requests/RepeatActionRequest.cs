using Chaqum.Control.Messages;
using Chaqum.Scheduling;
using Chaqum.Scheduling.Repeats;

namespace Chaqum.Control.Requests;

public enum RepeatAction { Unrepeat, Disable, Enable, Trigger }

/// <summary>unrepeat / disable / enable / trigger {id} → what an operator does to a repeat:
/// remove it (a running firing runs on), skip its firings while keeping its schedule, fire
/// it now (see <see cref="Scheduler.TriggerRepeat"/> for the overlap rule).</summary>
public sealed class RepeatActionRequest(ControlServices services, RepeatAction action) : IControlRequest
{
    private ControlVerb<RepeatArgs, RepeatActionResult> Verb => action switch
    {
        RepeatAction.Unrepeat => ControlVerbs.Unrepeat,
        RepeatAction.Disable => ControlVerbs.Disable,
        RepeatAction.Enable => ControlVerbs.Enable,
        _ => ControlVerbs.Trigger,
    };

    public string Name => Verb.Name;

    public void Handle(ControlCall call)
    {
        var id = call.ArgsOf(Verb).Id ?? throw new ControlException($"{Name} needs a repeat id");
        var scheduler = services.Scheduler;
        var repeat = scheduler.FindRepeat(id)
            ?? throw new ControlException($"no repeat '{id}' (chaqumctl repeats lists them)");
        var result = new RepeatActionResult { Id = repeat.Id };
        switch (action)
        {
            case RepeatAction.Unrepeat:
                scheduler.RemoveRepeat(repeat.Id);
                result = result with { State = "removed" };
                break;
            case RepeatAction.Disable:
            case RepeatAction.Enable:
                scheduler.SetRepeatEnabled(repeat, action == RepeatAction.Enable);
                result = result with { State = State(repeat) };
                break;
            default:
                var outcome = scheduler.TriggerRepeat(repeat);
                result = result with
                {
                    State = State(repeat),
                    Job = outcome.Job?.Id,
                    NotFired = outcome.NotFired,
                    Deferred = outcome.Deferred,
                };
                break;
        }
        call.Reply(Verb, result);
    }

    public static string State(Repeat repeat) => repeat.Disabled ? "disabled" : "enabled";
}
