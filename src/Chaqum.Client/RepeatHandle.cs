namespace Chaqum.Client;

/// <summary>A registered repeat (<c>repeat:N</c>).</summary>
public sealed class RepeatHandle
{
    internal RepeatHandle(ChaqumJob chaqum, string id)
    {
        Chaqum = chaqum;
        Id = id;
    }

    public ChaqumJob Chaqum { get; }

    public string Id { get; }

    /// <summary>Stops the repeat; a firing already running goes on.</summary>
    public Task UnrepeatAsync(CancellationToken cancel = default) => Chaqum.UnrepeatAsync([Id], cancel);

    public override string ToString() => Id;
}
