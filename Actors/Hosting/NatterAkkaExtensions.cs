using System.Globalization;
using Akka.Actor;
using Akka.Pattern;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using LinqToDB;
using Natter.Actors.Chats;
using Natter.Actors.Connections;
using Natter.Actors.Notifications;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Cluster.Tools.Singleton;
using Natter.Messages.Chats;
using Natter.Actors.Presence;
using Natter.Actors.Serialization;
using Natter.Actors.Services;
using Natter.Actors.Users;
using Natter.Messages;

namespace Natter.Actors.Hosting;

/// <summary>The Akka.Hosting steps that wire Natter; hosts call <see cref="WithNatter"/> and nothing else.</summary>
public static class NatterAkkaExtensions
{
    public static AkkaConfigurationBuilder WithNatter(this AkkaConfigurationBuilder builder, NatterOptions options)
    {
        options.Validate();
        builder
            .ConfigureLoggers(loggers =>
            {
                // Akka's log lines go through Microsoft.Extensions.Logging like the rest of the host.
                loggers.LogLevel = Akka.Event.LogLevel.InfoLevel;
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            })
            .WithNatterHocon()
            .WithNatterSerialization()
            .WithNatterClustering(options);
        // Edge-only processes hold no entities, so they never touch the journal.
        if (options.HostsEntities) builder.WithNatterPersistence(options.Persistence);
        return builder
            .WithPresenceSharding(options)
            .WithUserSharding(options)
            .WithChatSharding(options)
            .WithChatFanout(options)
            .WithKeyedDeviceInvalidations(options)
            .WithNotifications(options)
            .WithActors((system, _) => system.ActorOf(MemberDepartures.Props(), "member-departures"));
    }

    /// <summary>
    /// Entity hosts run the notification projection as a cluster singleton (the one reader of the journal's
    /// messages for notifications in the whole cluster); the sink comes from DI (AddNatterNotifications).
    /// </summary>
    public static AkkaConfigurationBuilder WithNotifications(this AkkaConfigurationBuilder builder, NatterOptions options) =>
        options.HostsEntities
            ? builder.WithActors((system, registry, resolver) => system.ActorOf(ClusterSingletonManager.Props(
                    // A persistent actor stops when the journal fails; the singleton manager would not start it again.
                    BackoffSupervisor.Props(Backoff.OnStop(
                        NotificationProjection.PropsFor(registry.Get<ChatRegion>(), registry.Get<PresenceRegion>(),
                            resolver.GetService<INotificationSink>(), options.Notifications),
                        "projection", TimeSpan.FromSeconds(1), options.Notifications.MaxBackoff, 0.2)),
                    PoisonPill.Instance,
                    ClusterSingletonManagerSettings.Create(system).WithRole(NatterRoles.Node)),
                "notification-projection"))
            : builder;

    /// <summary>Processes that hold client connections get one fanout for groups' live entries.</summary>
    public static AkkaConfigurationBuilder WithChatFanout(this AkkaConfigurationBuilder builder, NatterOptions options) =>
        options.EffectiveRoles.Contains(NatterRoles.Edge)
            ? builder.WithActors((system, registry) => registry.Register<ChatFanoutActor>(
                system.ActorOf(ChatFanout.PropsFor(registry.Get<ChatRegion>(), TimeSpan.FromMilliseconds(500)), "chat-fanout")))
            : builder;

    /// <summary>
    /// Processes that hold client connections and keep a <see cref="KeyedDeviceCache"/> (the edge host registers one
    /// unless it is turned off) hear of every user's device changes through the cluster's pub-sub.
    /// </summary>
    public static AkkaConfigurationBuilder WithKeyedDeviceInvalidations(this AkkaConfigurationBuilder builder, NatterOptions options) =>
        options.EffectiveRoles.Contains(NatterRoles.Edge)
            ? builder.WithActors((system, _, resolver) =>
            {
                if (resolver.GetService<KeyedDeviceCache?>() is { } cache)
                    system.ActorOf(KeyedDeviceInvalidations.PropsFor(cache, DistributedPubSub.Get(system).Mediator), "keyed-device-invalidations");
            })
            : builder;

    /// <summary>
    /// Tuning that the builder does not expose lives in HOCON/*.hocon, one concern per file; settings that
    /// depend on the journal's provider are in code beside it (SqliteDatabase).
    /// </summary>
    public static AkkaConfigurationBuilder WithNatterHocon(this AkkaConfigurationBuilder builder)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "HOCON");
        foreach (var file in Directory.EnumerateFiles(folder, "*.hocon").Order())
            builder.AddHoconFile(file, HoconAddMode.Prepend);
        return builder;
    }

    public static AkkaConfigurationBuilder WithNatterSerialization(this AkkaConfigurationBuilder builder) =>
        builder.WithCustomSerializer("natter", [typeof(INatterMessage)], system => new NatterSerializer(system));

    public static AkkaConfigurationBuilder WithNatterClustering(this AkkaConfigurationBuilder builder, NatterOptions options)
    {
        builder
            .WithRemoting(options.Remoting.Host, options.Remoting.Port, options.Remoting.PublicHost)
            .WithClustering(new ClusterOptions
            {
                Roles = options.ClusterRoles,
                SeedNodes = options.SeedNodes,
                // Only entity hosts count: edges scale with an HPA and must not decide which side survives.
                SplitBrainResolver = new KeepMajorityOption { Role = NatterRoles.Node },
            })
            // Every member: nodes publish users' device changes, edges subscribe (KeyedDevicesChanged).
            .WithDistributedPubSub(role: "");
        if (options.SeedNodes.Length == 0)
            builder.AddStartup((system, _) => Cluster.Get(system).Join(Cluster.Get(system).SelfAddress));
        return builder;
    }

    public static AkkaConfigurationBuilder WithNatterPersistence(this AkkaConfigurationBuilder builder, PersistenceOptions options)
    {
        builder.AddHocon(
            $"akka.persistence.journal.sql.commit-window = {options.CommitWindow.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms",
            HoconAddMode.Prepend);
        if (!options.IsPostgres)
        {
            SqliteDatabase.Prepare(options);
            builder.AddHocon(SqliteDatabase.PersistenceSettings, HoconAddMode.Prepend)
                .AddSetup(SqliteDatabase.ConnectionSetup(options.EffectiveConnectionString));
        }
        return builder.WithSqlPersistence(
            connectionString: options.EffectiveConnectionString,
            providerName: options.IsPostgres ? ProviderName.PostgreSQL15 : ProviderName.SQLiteMS,
            autoInitialize: true);
    }

    public static AkkaConfigurationBuilder WithPresenceSharding(this AkkaConfigurationBuilder builder, NatterOptions options) =>
        options.HostsEntities
            ? builder.WithNatterShardRegion<PresenceRegion>("presence",
                // One entity per online user, mostly idle: the mailbox that holds no storage while empty.
                (_, registry) => userId => CompactMailbox.Apply(PresenceActor.PropsFor(userId, registry.Get<UserRegion>(), registry.Get<PresenceRegion>())),
                new PresenceMessageExtractor(),
                new RegionSettings(NatterRoles.Node, PassivateIdleAfter: null),
                options.ShardAllocation)
            : builder.WithShardRegionProxy<PresenceRegion>("presence", NatterRoles.Node, new PresenceMessageExtractor());

    public static AkkaConfigurationBuilder WithUserSharding(this AkkaConfigurationBuilder builder, NatterOptions options) =>
        options.HostsEntities
            ? builder.WithNatterShardRegion<UserRegion>("user",
                // One entity per user online (and per account touched in the last two minutes): the compact mailbox,
                // in its variant for actors that stash.
                (system, registry) => userId => CompactDequeMailbox.Apply(UserActor.PropsFor(userId, registry.Get<PresenceRegion>(),
                    registry.Get<ChatRegion>(), DistributedPubSub.Get(system).Mediator)),
                new UserMessageExtractor(),
                new RegionSettings(NatterRoles.Node, PassivateIdleAfter: TimeSpan.FromMinutes(2)),
                options.ShardAllocation)
            : builder.WithShardRegionProxy<UserRegion>("user", NatterRoles.Node, new UserMessageExtractor());

    public static AkkaConfigurationBuilder WithChatSharding(this AkkaConfigurationBuilder builder, NatterOptions options) =>
        options.HostsEntities
            ? builder.WithNatterShardRegion<ChatRegion>("chat",
                (_, registry) => chatId => ChatActor.PropsFor(chatId, registry.Get<PresenceRegion>(), options.Chat),
                new ChatMessageExtractor(),
                new RegionSettings(NatterRoles.Node, PassivateIdleAfter: TimeSpan.FromMinutes(2), HandOffStopMessage: ChatActor.Stop.Instance),
                options.ShardAllocation)
            : builder.WithShardRegionProxy<ChatRegion>("chat", NatterRoles.Node, new ChatMessageExtractor());
}
