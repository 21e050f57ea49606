using Akka.Actor;
using Akka.Configuration;
using Akka.Cluster.Sharding;
using Akka.Hosting;

namespace Natter.Actors.Hosting;

/// <summary>The shard allocation strategies an operator picks from (<c>Natter:ShardAllocation</c>).</summary>
public static class ShardAllocations
{
    /// <summary>Shards on the members by consistent hashing with bounded loads (<see cref="ShardRing"/>): the default.</summary>
    public const string ConsistentHashing = "consistent-hashing";

    /// <summary>Akka's own: each new shard on the region with the fewest, rebalanced towards equal counts.</summary>
    public const string LeastShard = "least-shard";
}

/// <summary>How a region's entities live: the node role that hosts them, when idle ones stop, what stops one for a hand-off.</summary>
/// <param name="PassivateIdleAfter">Null: entities are never passivated for being idle (they stop themselves).</param>
public sealed record RegionSettings(string Role, TimeSpan? PassivateIdleAfter, object? HandOffStopMessage = null);

public static class ShardRegionHosting
{
    /// <summary>
    /// What Akka.Cluster.Hosting's <c>WithShardRegion</c> does (settings over the akka.cluster.sharding section, the
    /// coordinator's singleton settings, the hand-off message, the registry), with remember-entities off and the
    /// allocation strategy that <paramref name="allocation"/> names: Akka.Hosting has no way to pass one.
    /// </summary>
    public static AkkaConfigurationBuilder WithNatterShardRegion<TKey>(this AkkaConfigurationBuilder builder, string typeName,
        Func<ActorSystem, IActorRegistry, Func<string, Props>> entityPropsFactory, HashCodeMessageExtractor extractor,
        RegionSettings region, string allocation) =>
        builder.WithActors(async (system, registry) =>
        {
            // First: the extension brings its default configuration with it.
            var sharding = ClusterSharding.Get(system);
            var settings = SettingsFor(system, region);
            var shardingConfig = system.Settings.Config.GetConfig("akka.cluster.sharding");
            IShardAllocationStrategy strategy = allocation == ShardAllocations.LeastShard
                ? sharding.DefaultShardAllocationStrategy(settings)
                // The same per-round limits as Akka's own strategy (HOCON/sharding.hocon).
                : new ConsistentHashingAllocation(extractor.MaxNumberOfShards,
                    shardingConfig.GetInt("least-shard-allocation-strategy.rebalance-absolute-limit"),
                    shardingConfig.GetDouble("least-shard-allocation-strategy.rebalance-relative-limit"));
            var started = await sharding.StartAsync(typeName, entityPropsFactory(system, registry), settings, extractor, strategy,
                region.HandOffStopMessage ?? PoisonPill.Instance);
            registry.Register<TKey>(started);
        });

    /// <summary>The region's settings: its own over the akka.cluster.sharding section, as Akka.Hosting builds them.</summary>
    public static ClusterShardingSettings SettingsFor(ActorSystem system, RegionSettings region)
    {
        var passivate = region.PassivateIdleAfter is { } after ? $"{(long)after.TotalMilliseconds}ms" : "off";
        var shardingConfig = ConfigurationFactory.ParseString($"""
                role = "{region.Role}"
                remember-entities = off
                passivate-idle-entity-after = {passivate}
                """)
            .WithFallback(system.Settings.Config.GetConfig("akka.cluster.sharding"));
        return ClusterShardingSettings.Create(shardingConfig, system.Settings.Config.GetConfig(shardingConfig.GetString("coordinator-singleton")));
    }
}
