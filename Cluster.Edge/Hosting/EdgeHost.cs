using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Natter.Actors.Hosting;
using Natter.Actors.Notifications;
using Natter.Actors.Media;
using Natter.Cluster.Edge.Media;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Natter.Actors.Connections;
using Natter.Actors.Services;
using Natter.Cluster.Edge.Auth;
using Natter.Cluster.Edge.Sockets;

namespace Natter.Cluster.Edge;

/// <summary>
/// Composes the edge: Kestrel with /ws and /api, the actor system (with the node role too in the
/// embedded default), auth and health checks. Tests build the same application through <see cref="Build"/>.
/// </summary>
public static class EdgeHost
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Its appsettings.json and wwwroot are beside the binary: they apply whatever the working directory is.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = HostArguments.WithoutConfigReload(args),
            ContentRootPath = AppContext.BaseDirectory,
        });
        configure?.Invoke(builder);

        var natter = builder.Configuration.GetSection(NatterOptions.Section).Get<NatterOptions>() ?? new NatterOptions();
        builder.Services.Configure<AuthOptions>(builder.Configuration.GetSection($"{NatterOptions.Section}:Auth"));
        builder.Services.Configure<ConnectionSettings>(builder.Configuration.GetSection($"{NatterOptions.Section}:Edge"));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new AccessTokens(
            SigningKey.Load(sp.GetRequiredService<IOptions<AuthOptions>>().Value, natter.Persistence.DataDirectory, natter.HostsEntities),
            sp.GetRequiredService<TimeProvider>()));
        // Pluggable: a host (or a test) that registered its own sender keeps it.
        builder.Services.TryAddSingleton<IVerificationCodeSender, LoggingVerificationCodeSender>();
        builder.Services.AddSingleton<AccountService>();
        builder.Services.AddSingleton(new BundleClaimLimiter(
            builder.Configuration.GetValue($"{NatterOptions.Section}:Keys:BundleClaimsPerMinute", 120)));
        builder.Services.AddSingleton(new AccountRequestLimiter(
            builder.Configuration.GetValue($"{NatterOptions.Section}:Auth:AccountRequestsPerHour", 20)));
        builder.Services.AddSingleton(sp => new SendLimiter(sp.GetRequiredService<IOptions<ConnectionSettings>>().Value));
        var requestBurst = builder.Configuration.GetValue($"{NatterOptions.Section}:Edge:RequestBurst", 200);
        var requestsPerSecond = builder.Configuration.GetValue($"{NatterOptions.Section}:Edge:RequestsPerSecond", 50);
        if (requestsPerSecond < 0 || requestsPerSecond > 0 && requestBurst < 1)
            throw new InvalidOperationException($"{NatterOptions.Section}:Edge:RequestsPerSecond must be 0 (no limit) or above, with RequestBurst at least 1");
        builder.Services.AddSingleton(new RequestLimiter(requestBurst, requestsPerSecond));
        builder.Services.AddSingleton<DeviceAdmission>();
        builder.Services.AddSingleton<ClientSocketHandler>();
        builder.Services.AddSingleton<EdgeMetrics>();
        // Kestrel reads none of its limits from configuration: this one is the edge's own setting, for every request's
        // head and for the WebSocket handshake below HTTP alike.
        var headTimeout = TimeSpan.FromSeconds(builder.Configuration.GetValue($"{NatterOptions.Section}:Edge:RequestHeadersTimeoutSeconds", 30.0));
        if (headTimeout <= TimeSpan.Zero)
            throw new InvalidOperationException($"{NatterOptions.Section}:Edge:RequestHeadersTimeoutSeconds must be above 0");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.RequestHeadersTimeout = headTimeout);
        var edgeLimits = builder.Configuration.GetSection($"{NatterOptions.Section}:Edge").Get<ConnectionSettings>() ?? new ConnectionSettings();
        // A burst of 0 with a refill would refuse every send, for good.
        if (edgeLimits.SendsPerSecond < 0 || edgeLimits.SendsPerSecond > 0 && edgeLimits.SendBurst < 1)
            throw new InvalidOperationException($"{NatterOptions.Section}:Edge:SendsPerSecond must be 0 (no limit) or above, with SendBurst at least 1");
        if (UpgradesBelowHttp(builder.Configuration[$"{NatterOptions.Section}:Edge:WebSocketHandshake"]))
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Use(next =>
                // Run as Kestrel builds the endpoint, after its own settings: an endpoint without HTTP/1 is left alone.
                listen.Protocols.HasFlag(HttpProtocols.Http1)
                    ? new ConnectionUpgrade(listen.ApplicationServices, kestrel.Limits.KeepAliveTimeout, headTimeout).Around(next)
                    : next)));
        if (edgeLimits.KeyedDevicesCacheTime < TimeSpan.Zero || edgeLimits.KeyedDevicesCacheUsers < 1)
            throw new InvalidOperationException($"{NatterOptions.Section}:Edge:KeyedDevicesCacheTime must be 0 (off) or above, and KeyedDevicesCacheUsers at least 1");
        if (edgeLimits.KeyedDevicesCacheTime > TimeSpan.Zero)
            builder.Services.AddSingleton(new KeyedDeviceCache(edgeLimits.KeyedDevicesCacheTime, edgeLimits.KeyedDevicesCacheUsers, edgeLimits.AskTimeout));
        builder.Services.AddSingleton(sp => new ChatGateway(
            sp.GetRequiredService<IRequiredActor<ChatRegion>>().ActorRef,
            sp.GetRequiredService<IRequiredActor<UserRegion>>().ActorRef,
            sp.GetRequiredService<IOptions<ConnectionSettings>>().Value.AskTimeout,
            sp.GetService<KeyedDeviceCache>()));
        builder.Services.AddSingleton(sp => new UserGateway(
            sp.GetRequiredService<IRequiredActor<UserRegion>>().ActorRef,
            sp.GetRequiredService<IRequiredActor<PresenceRegion>>().ActorRef,
            sp.GetRequiredService<IOptions<ConnectionSettings>>().Value.AskTimeout,
            sp.GetService<KeyedDeviceCache>()));
        var media = builder.Configuration.GetSection($"{NatterOptions.Section}:Media").Get<MediaOptions>() ?? new MediaOptions();
        builder.Services.AddSingleton(media);
        builder.Services.AddSingleton<IBlobStore>(new LocalBlobStore(media.Root ?? Path.Combine(natter.Persistence.DataDirectory, "media")));
        builder.Services.AddSingleton<MediaService>();
        if (natter.HostsEntities)
        {
            natter.CollectsMedia = true;
            builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<MediaCollector>(sp, new Func<IBlobStore>(sp.GetRequiredService<IBlobStore>)));
            builder.Services.AddHostedService(sp => sp.GetRequiredService<MediaCollector>());
        }
        builder.Services.AddNatterNotifications(natter.Notifications, natter.HostsEntities);
        builder.Services.AddAkka(natter.ActorSystemName, akka => akka.WithNatter(natter));
        builder.Services.AddSingleton<ClusterHealthCheck>();
        builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster", tags: ["ready"]);

        var app = builder.Build();
        // No WebSocket keep-alive frames: the protocol's own heartbeat (the client's ping every heartbeatSeconds, the
        // server's pong, the idle timeout) already keeps the connection busy both ways and notices a silent one, and a
        // keep-alive would cost every socket a timer of its own.
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        // The browser client (wwwroot): static files only, it talks to /ws and /api like any client.
        var webClient = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "wwwroot"));
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = webClient });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = webClient,
            // The client keeps its private keys in localStorage: only its own scripts may ever run on this origin.
            OnPrepareResponse = static file => file.Context.Response.Headers.ContentSecurityPolicy =
                "default-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        });
        // The handler, a singleton, comes from the root services (at the first request: it needs the actor
        // registry, filled as the host starts). Resolved per request, it would give every WebSocket a request
        // service scope for the life of its connection.
        ClientSocketHandler? sockets = null;
        app.Map("/ws", (HttpContext context) => (sockets ??= app.Services.GetRequiredService<ClientSocketHandler>()).HandleAsync(context));

        var api = app.MapGroup("/api");
        api.MapAccountEndpoints();
        var authenticated = api.MapGroup("").RequireDevice().LimitRequestsPerUser();
        authenticated.MapChatEndpoints();
        authenticated.MapMessageEndpoints();
        authenticated.MapGroupEndpoints();
        authenticated.MapUserEndpoints();
        authenticated.MapMediaEndpoints();
        authenticated.MapBackupEndpoints();
        authenticated.MapKeyEndpoints();
        authenticated.MapDeviceLinkEndpoints();
        authenticated.MapDeviceListEndpoints();
        authenticated.MapDeviceMessageEndpoints();

        app.MapHealthChecks("/health/live", new() { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new()
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResultStatusCodes = ClusterHealthCheck.ReadinessStatusCodes,
        });
        return app;
    }

    /// <summary>
    /// Natter:Edge:WebSocketHandshake: "connection" (the default) answers plain HTTP/1.1 upgrades of /ws below ASP.NET
    /// Core's HTTP layer (<see cref="ConnectionUpgrade"/>); "http" leaves every upgrade to ASP.NET Core's WebSocket
    /// middleware, as anything the shortcut does not take is anyway.
    /// </summary>
    private static bool UpgradesBelowHttp(string? setting) => setting?.ToLowerInvariant() switch
    {
        null or "" or EdgeMetrics.ConnectionHandshake => true,
        EdgeMetrics.HttpHandshake => false,
        _ => throw new InvalidOperationException(
            $"{NatterOptions.Section}:Edge:WebSocketHandshake is \"{setting}\"; use \"{EdgeMetrics.ConnectionHandshake}\" or \"{EdgeMetrics.HttpHandshake}\""),
    };
}
