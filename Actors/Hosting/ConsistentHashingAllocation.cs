using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace Natter.Actors.Hosting;

/// <summary>
/// Akka's shard coordinator places and moves shards where <see cref="ShardRing"/> says: a new shard on its ring node,
/// and at each rebalance round the shards whose ring node is another region's, at most <c>limit</c> at a time and
/// only while every region's member is Up with none unreachable (a membership change in progress would move shards
/// twice). Regions are told apart by their member's address.
/// </summary>
public sealed class ConsistentHashingAllocation : IActorSystemDependentAllocationStrategy
{
    private readonly int _shardCount;
    private readonly int _absoluteLimit;
    private readonly double _relativeLimit;
    private Func<IActorRef, Address> _addressOf = r => r.Path.Address;
    private Func<Address, bool> _isUp = _ => true;
    private Func<bool> _anyUnreachable = () => false;

    /// <param name="shardCount">The extractor's shard count: shard ids are "0" to shardCount - 1.</param>
    public ConsistentHashingAllocation(int shardCount, int absoluteLimit, double relativeLimit)
    {
        _shardCount = shardCount;
        _absoluteLimit = absoluteLimit;
        _relativeLimit = relativeLimit;
    }

    /// <summary>For specs: regions' addresses and members' state without a cluster.</summary>
    public ConsistentHashingAllocation(int shardCount, int absoluteLimit, double relativeLimit,
        Func<IActorRef, Address> addressOf, Func<Address, bool> isUp, Func<bool> anyUnreachable)
        : this(shardCount, absoluteLimit, relativeLimit)
    {
        _addressOf = addressOf;
        _isUp = isUp;
        _anyUnreachable = anyUnreachable;
    }

    public void Start(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        // The coordinator's own region has a local path, without host and port.
        _addressOf = r => r.Path.Address.HasGlobalScope ? r.Path.Address : cluster.SelfAddress;
        _isUp = a => cluster.State.Members.Any(m => m.Address == a && m.Status == MemberStatus.Up);
        _anyUnreachable = () => !cluster.State.Unreachable.IsEmpty;
    }

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
        if (rebalanceInProgress.Count > 0 || currentShardAllocations.Count < 2 || _anyUnreachable()) return Task.FromResult(none);
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

    private Dictionary<string, IActorRef> RegionsByNode(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations, bool upOnly) =>
        allocations.Keys
            .Select(region => (Region: region, Address: _addressOf(region)))
            .Where(r => !upOnly || _isUp(r.Address))
            .ToDictionary(r => r.Address.ToString(), r => r.Region, StringComparer.Ordinal);

    /// <summary>Every shard the extractor can name (placed as a whole, so a shard's node does not depend on which exist yet).</summary>
    private IEnumerable<string> ShardIds(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations) =>
        Enumerable.Range(0, _shardCount).Select(i => i.ToString()).Concat(allocations.Values.SelectMany(s => s));
}
