using Chaqum.Web;
using Chaqum.Web.Api;
using Chaqum.Web.Daemon;
using Chaqum.Web.Live;
using Chaqum.Web.Metrics;
using Chaqum.Web.Pages;
using Chaqum.Web.Security;

// chaqum-web: the dashboard and HTTP API of one tree's daemon, a client of its control
// socket (docs/http.md). Exit status: 0 after an orderly stop (SIGTERM, SIGINT), 1 when
// it cannot start (address in use), 2 for a usage error.
WebOptions options;
Listening listening;
TokenGate gate;
try
{
    options = WebOptions.Parse(args);
    listening = Listening.Parse(options.Listen);
    gate = options.TokenFile is null ? TokenGate.None : TokenGate.FromFile(options.TokenFile);
    if (!listening.IsLocal && !gate.Enabled)
        throw new UsageException($"--listen {options.Listen} opens the daemon to a network: give --token-file FILE too (or listen on 127.0.0.1 or a unix socket)");
}
catch (HelpException)
{
    Console.Out.Write(WebOptions.Usage);
    return 0;
}
catch (UsageException e)
{
    Console.Error.WriteLine($"chaqum-web: {e.Message}");
    Console.Error.Write(WebOptions.Usage);
    return 2;
}

if (!Chaqum.Web.Native.ParentWatch.Arm())
{
    Console.Error.WriteLine("chaqum-web: the daemon that started me is gone");
    return 1;
}

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Limits.MaxRequestBodySize = 1024 * 1024;
    if (listening.UnixPath is { } path)
    {
        // A leftover socket (a chaqum-web that died) is replaced; anything else is not ours.
        if (Chaqum.Web.Native.SocketFile.IsSocket(path)) File.Delete(path);
        k.ListenUnixSocket(path);
    }
    else k.Listen(listening.Ip!);
});
builder.Services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
builder.Services.AddBadRequestSentences();
builder.Services.AddSingleton(options);
builder.Services.AddSingleton(listening);
builder.Services.AddSingleton(gate);
builder.Services.AddSingleton<DaemonLink>();
builder.Services.AddSingleton<HistoryReader>();
builder.Services.AddSingleton<DaemonProbe>();
// Antiforgery tokens are signed with keys kept in memory only: nothing written to the
// home directory, and a restart makes open forms stale (they say so and ask for a reload).
builder.Services.AddSingleton<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider, Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider>();
builder.Services.AddSingleton<Snapshots>();
builder.Services.AddSingleton<EventHub>();
builder.Services.AddSingleton<OutputHub>();
builder.Services.AddHostedService(s => s.GetRequiredService<EventHub>());
builder.Services.AddSingleton<DaemonMetrics>();
builder.Services.AddAntiforgery(o =>
{
    o.Cookie.Name = "chaqum_antiforgery";
    o.Cookie.SameSite = SameSiteMode.Strict;
    o.Cookie.HttpOnly = true;
    o.FormFieldName = "_token";
});
builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
{
    doc.Info.Title = "chaqum-web";
    doc.Info.Description = "The HTTP API of a chaqum daemon (docs/http.md)";
    return Task.CompletedTask;
}));

var app = builder.Build();
app.UseBadRequestSentences();
app.UseGuard(gate, listening);
app.MapOpenApi();
app.MapApi();
app.MapJobsch();
app.MapPages();
app.MapLive();
app.MapStatic();
app.Services.GetRequiredService<DaemonMetrics>().Map(app);

uint? umask = listening.UnixPath is null ? null : Chaqum.Web.Native.Umask.Set(0x3F) /* 077 */;
try
{
    await app.StartAsync();
}
catch (IOException e)
{
    Console.Error.WriteLine($"chaqum-web: cannot listen on {options.Listen}: {e.Message}");
    return 1;
}
finally
{
    if (umask is { } previous) Chaqum.Web.Native.Umask.Set(previous);
}
app.Logger.LogInformation("chaqum-web: serving {Tree} on {Address}{Token}", new DaemonLink(options).TreeRoot ?? options.Socket,
    listening.UnixPath is { } unix ? "unix:" + unix : string.Join(" ", app.Urls), gate.Enabled ? " (token required)" : "");
await app.WaitForShutdownAsync();
return 0;
