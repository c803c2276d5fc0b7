using Chaqum.Control.Messages;

namespace Chaqum.Control.Requests;

/// <summary>hello → who this daemon is: version, tree, pid, state directory, socket.</summary>
public sealed class HelloRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Hello.Name;

    public void Handle(ControlCall call) => call.Reply(ControlVerbs.Hello, new HelloResult
    {
        Version = Program.Version,
        Protocol = ControlProtocol.Version,
        Tree = services.Tree.Root,
        Pid = Environment.ProcessId,
        StateDir = services.StateDir,
        Socket = services.SocketPath,
        StartedAt = JobView.Time(services.StartedAt),
        Stopping = services.Scheduler.Stopping,
    });
}
