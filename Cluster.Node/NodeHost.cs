using Akka.Actor;
using Akka.Hosting;
using Natter.Actors.Hosting;
using Natter.Actors.Media;
using Natter.Actors.Notifications;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Node;

/// <summary>
/// Role "node" alone: hosts the sharded ChatActors, UserActors and PresenceActors that edges reach through
/// their shard proxies, dispatches notifications, and collects media when Natter:Media:Root names the edges'
/// shared folder. Over HTTP it serves health probes and the shard placement (GET /cluster/shards). Configured by environment variables
/// (Natter__SeedNodes__0, Natter__Remoting__Port, Natter__Persistence__..., see docs/operations.md).
/// </summary>
public static class NodeHost
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(HostArguments.WithoutConfigReload(args));
        configure?.Invoke(builder);
        var natter = builder.Configuration.GetSection(NatterOptions.Section).Get<NatterOptions>() ?? new NatterOptions();
        if (natter.Roles.Length == 0) natter.Roles = [NatterRoles.Node];

        builder.Services.AddNatterNotifications(natter.Notifications, natter.HostsEntities);
        // Edges store the files; a node that sees their folder (a shared volume, as in k8s/) collects it.
        var media = builder.Configuration.GetSection($"{NatterOptions.Section}:Media").Get<MediaOptions>() ?? new MediaOptions();
        if (!string.IsNullOrWhiteSpace(media.Root))
        {
            natter.CollectsMedia = true;
            builder.Services.AddSingleton(media);
            // Opened at the first collection, and again after a failure: a media volume that is not writable yet
            // must not keep the node, and the entities it hosts, from starting.
            var store = new Lazy<IBlobStore>(() => new LocalBlobStore(media.Root), LazyThreadSafetyMode.PublicationOnly);
            builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<MediaCollector>(sp, new Func<IBlobStore>(() => store.Value)));
            builder.Services.AddHostedService(sp => sp.GetRequiredService<MediaCollector>());
        }
        builder.Services.AddAkka(natter.ActorSystemName, akka => akka.WithNatter(natter));
        builder.Services.AddSingleton<ClusterHealthCheck>();
        builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster", tags: ["ready"]);

        var app = builder.Build();
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new()
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResultStatusCodes = ClusterHealthCheck.ReadinessStatusCodes,
        });
        // For operators scaling the nodes (docs/operations.md): shards and entities per member. Nodes' HTTP port is
        // internal (probes); edges, which face clients, do not serve it.
        app.MapGet("/cluster/shards", async (ActorSystem system, ActorRegistry registry) =>
        {
            try
            {
                return Results.Json(await ShardPlacement.AskAsync(system, registry, TimeSpan.FromSeconds(5)), ProtocolJson.Options);
            }
            catch (Exception e) when (e is AskTimeoutException or InvalidCastException or InvalidOperationException)
            {
                return Results.Json(new { error = $"the shard regions did not answer: {e.Message}" }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });
        return app;
    }
}
