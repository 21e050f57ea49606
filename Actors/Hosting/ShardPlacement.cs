using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;

namespace Natter.Actors.Hosting;

/// <summary>
/// Where the shards and entities are, per entity type and member, and the members as this one sees them: what an
/// operator scaling the nodes watches (the `GET /cluster/shards` route of Cluster.Node). Asks each shard region for
/// Akka's cluster-wide statistics. A region that did not answer in time makes Akka report no regions at all for that
/// type: <see cref="View.Complete"/> is then false, and the members show which one is unreachable. Within a region's
/// answer, shards that did not report within sharding's shard-region-query-timeout (3 s) are listed as failed.
/// </summary>
public static class ShardPlacement
{
    public sealed record View(string Self, bool Complete, IReadOnlyList<MemberView> Members, IReadOnlyDictionary<string, IReadOnlyList<RegionView>> Regions);

    public sealed record MemberView(string Address, string Status, IReadOnlyList<string> Roles, bool Reachable);

    public sealed record RegionView(string Address, int Shards, int Entities, IReadOnlyList<string> FailedShards);

    public static async Task<View> AskAsync(ActorSystem system, ActorRegistry registry, TimeSpan timeout)
    {
        var regions = new Dictionary<string, IActorRef>
        {
            ["chat"] = await registry.GetAsync<ChatRegion>(),
            ["user"] = await registry.GetAsync<UserRegion>(),
            ["presence"] = await registry.GetAsync<PresenceRegion>(),
        };
        var answers = await Task.WhenAll(regions.Select(async r =>
            (r.Key, Stats: await r.Value.Ask<ClusterShardingStats>(new GetClusterShardingStats(timeout), timeout + TimeSpan.FromSeconds(2)))));
        var cluster = Akka.Cluster.Cluster.Get(system);
        var unreachable = cluster.State.Unreachable.Select(m => m.UniqueAddress).ToHashSet();
        var nodesUp = cluster.State.Members.Any(m => m.Status == Akka.Cluster.MemberStatus.Up && m.HasRole(NatterRoles.Node));
        return new View(
            cluster.SelfAddress.ToString(),
            !nodesUp || answers.All(a => a.Stats.Regions.Count > 0),
            cluster.State.Members.OrderBy(m => m.Address.ToString(), StringComparer.Ordinal)
                .Select(m => new MemberView(m.Address.ToString(), m.Status.ToString(), m.Roles.Order(StringComparer.Ordinal).ToList(), !unreachable.Contains(m.UniqueAddress)))
                .ToList(),
            answers.ToDictionary(a => a.Key, a => (IReadOnlyList<RegionView>)a.Stats.Regions
                .OrderBy(r => r.Key.ToString(), StringComparer.Ordinal)
                .Select(r => new RegionView(r.Key.ToString(), r.Value.Stats.Count, r.Value.Stats.Values.Sum(),
                    (r.Value.Failed ?? System.Collections.Immutable.ImmutableHashSet<string>.Empty).Order(StringComparer.Ordinal).ToList()))
                .ToList()));
    }
}
