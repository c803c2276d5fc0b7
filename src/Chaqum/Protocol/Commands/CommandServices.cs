using Chaqum.EventLoop;
using Chaqum.Messaging;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Protocol.Commands;

/// <summary>What the commands work with.</summary>
public sealed record CommandServices(Scheduler Scheduler, PostOffice PostOffice, JobTree Tree, ITimers Timers, ILogger Log)
{
    /// <summary>The daemon's plans (plan, waitplan).</summary>
    public Plans.PlanBook? Plans { get; init; }
}
