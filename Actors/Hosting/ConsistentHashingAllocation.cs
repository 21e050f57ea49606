using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace Natter.Actors.Hosting;

/// <summary>
/// Akka's shard coordinator places and moves shards where <see cref="ShardRing"/> says: a new shard on its ring node,
/// and at each rebalance round the shards whose ring node is another region's, at most <c>limit</c> at a time. Regions
/// are told apart by their member's address. Like Akka's own strategy it rebalances only when that can finish: no
/// rebalance in flight, no member unreachable, joining or weakly up, one app version across the cluster (a rolling
/// update would otherwise move each restarted member's shards away and back), and one region per address (a member
/// that crashed and came back at the same address has two until the old one is removed).
/// </summary>
public sealed class ConsistentHashingAllocation : IActorSystemDependentAllocationStrategy
{
    private readonly int _shardCount;
    private readonly int _absoluteLimit;
    private readonly double _relativeLimit;
    private Func<IActorRef, Address> _addressOf = r => r.Path.Address;
    private Func<Address, bool> _isUp = _ => true;
    private Func<bool> _membershipSettled = () => true;

    /// <param name="shardCount">The extractor's shard count: shard ids are "0" to shardCount - 1.</param>
    public ConsistentHashingAllocation(int shardCount, int absoluteLimit, double relativeLimit)
    {
        _shardCount = shardCount;
        _absoluteLimit = absoluteLimit;
        _relativeLimit = relativeLimit;
    }

    /// <summary>For specs: regions' addresses and members' state without a cluster.</summary>
    public ConsistentHashingAllocation(int shardCount, int absoluteLimit, double relativeLimit,
        Func<IActorRef, Address> addressOf, Func<Address, bool> isUp, Func<bool> membershipSettled)
        : this(shardCount, absoluteLimit, relativeLimit)
    {
        _addressOf = addressOf;
        _isUp = isUp;
        _membershipSettled = membershipSettled;
    }

    public void Start(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        _addressOf = region => AddressOf(region, cluster.SelfAddress);
        _isUp = a => cluster.State.Members.Any(m => m.Address == a && m.Status == MemberStatus.Up);
        _membershipSettled = () => IsSettled(cluster.State);
    }

    /// <summary>The member address of a region: the coordinator's own region has a local path, without host and port.</summary>
    public static Address AddressOf(IActorRef region, Address self) => region.Path.Address.HasGlobalScope ? region.Path.Address : self;

    /// <summary>No member unreachable, joining or weakly up, and one app version: a rebalance started now can finish once.</summary>
    public static bool IsSettled(ClusterEvent.CurrentClusterState state) =>
        state.Unreachable.IsEmpty
        && state.Members.All(m => m.Status is not (MemberStatus.Joining or MemberStatus.WeaklyUp))
        && state.Members.Select(m => m.AppVersion).Distinct().Count() <= 1;

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId,
        IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var regions = RegionsByNode(currentShardAllocations, upOnly: true);
        // No region counted Up (a first allocation racing the member's own Up): place among all of them.
        if (regions.Count == 0) regions = RegionsByNode(currentShardAllocations, upOnly: false);
        if (regions.Count == 0) return Task.FromResult(requester);
        var node = ShardRing.Place(regions.Keys, ShardIds(currentShardAllocations).Append(shardId))[shardId];
        return Task.FromResult(regions[node]);
    }

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations,
        IImmutableSet<string> rebalanceInProgress)
    {
        IImmutableSet<string> none = ImmutableHashSet<string>.Empty;
        if (rebalanceInProgress.Count > 0 || currentShardAllocations.Count < 2 || !_membershipSettled()) return Task.FromResult(none);
        // Every region Up, each at an address of its own.
        var regions = RegionsByNode(currentShardAllocations, upOnly: true);
        if (regions.Count != currentShardAllocations.Count) return Task.FromResult(none);

        var placement = ShardRing.Place(regions.Keys, ShardIds(currentShardAllocations));
        var limit = Math.Max(1, Math.Min(_absoluteLimit, (int)(_relativeLimit * currentShardAllocations.Values.Sum(s => s.Count))));
        IImmutableSet<string> moves = currentShardAllocations
            .SelectMany(region => region.Value.Where(shard => !region.Key.Equals(regions[placement[shard]])))
            .OrderBy(shard => shard, StringComparer.Ordinal)
            .Take(limit)
            .ToImmutableHashSet();
        return Task.FromResult(moves);
    }

    /// <summary>
    /// The regions by their member's address. An address with more than one region (a member that crashed and came
    /// back at the same address, whose old region the coordinator still holds) counts as none of them: which is the
    /// live one is not known here, and this must never throw inside the coordinator.
    /// </summary>
    private Dictionary<string, IActorRef> RegionsByNode(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations, bool upOnly) =>
        allocations.Keys
            .Select(region => (Region: region, Address: _addressOf(region)))
            .Where(r => !upOnly || _isUp(r.Address))
            .GroupBy(r => r.Address.ToString(), StringComparer.Ordinal)
            .Where(g => g.Count() == 1)
            .ToDictionary(g => g.Key, g => g.Single().Region, StringComparer.Ordinal);

    /// <summary>Every shard the extractor can name (placed as a whole, so a shard's node does not depend on which exist yet).</summary>
    private IEnumerable<string> ShardIds(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations) =>
        Enumerable.Range(0, _shardCount).Select(i => i.ToString()).Concat(allocations.Values.SelectMany(s => s));
}
