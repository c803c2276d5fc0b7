using System.Text.Json.Nodes;

namespace Chaqum.Control.Requests;

/// <summary>hello → who this daemon is: version, tree, pid, state directory, socket.</summary>
public sealed class HelloRequest(ControlServices services) : IControlRequest
{
    public string Name => "hello";

    public void Handle(ControlCall call) => call.Reply(new JsonObject
    {
        ["version"] = Program.Version,
        ["protocol"] = ControlProtocol.Version,
        ["tree"] = services.Tree.Root,
        ["pid"] = Environment.ProcessId,
        ["state_dir"] = services.StateDir,
        ["socket"] = services.SocketPath,
        ["started_at"] = JobView.Time(services.StartedAt),
        ["stopping"] = services.Scheduler.Stopping,
    });
}
