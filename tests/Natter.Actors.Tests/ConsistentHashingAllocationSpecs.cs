using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Natter.Actors.Hosting;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>
/// The coordinator's view of the strategy: a new shard goes to its ring node; a rebalance moves the shards away from
/// the regions the ring does not give them to, a limited number per round, and waits while membership is changing.
/// </summary>
public sealed class ConsistentHashingAllocationSpecs : TestKit
{
    private const int ShardCount = 100;
    private readonly Dictionary<IActorRef, Address> _addresses = new();
    private readonly HashSet<Address> _up = [];
    private bool _unreachable;

    private IActorRef Region(int node)
    {
        var region = CreateTestProbe($"region-{node}").Ref;
        var address = new Address("akka.tcp", "natter", $"10.0.0.{node}", 4053);
        _addresses[region] = address;
        _up.Add(address);
        return region;
    }

    private ConsistentHashingAllocation Strategy(int absoluteLimit = 20, double relativeLimit = 0.1) =>
        new(ShardCount, absoluteLimit, relativeLimit, r => _addresses[r], a => _up.Contains(a), () => _unreachable);

    private static IImmutableDictionary<IActorRef, IImmutableList<string>> Allocations(params (IActorRef Region, IEnumerable<string> Shards)[] regions) =>
        regions.ToImmutableDictionary(r => r.Region, r => (IImmutableList<string>)r.Shards.ToImmutableList());

    private static IEnumerable<string> AllShards => Enumerable.Range(0, ShardCount).Select(i => i.ToString());

    private Dictionary<string, IActorRef> RingPlacement(params IActorRef[] regions)
    {
        var byNode = regions.ToDictionary(r => _addresses[r].ToString());
        return ShardRing.Place(byNode.Keys, AllShards).ToDictionary(p => p.Key, p => byNode[p.Value]);
    }

    [Fact]
    public async Task A_new_shard_goes_to_its_ring_node_whoever_asks_and_whatever_is_allocated_already()
    {
        var a = Region(1);
        var b = Region(2);
        var c = Region(3);
        var ring = RingPlacement(a, b, c);
        var strategy = Strategy();

        foreach (var shard in new[] { "0", "17", "42", "99" })
        {
            Assert.Equal(ring[shard], await strategy.AllocateShard(a, shard, Allocations((a, []), (b, []), (c, []))));
            Assert.Equal(ring[shard], await strategy.AllocateShard(c, shard, Allocations((a, ["1", "2"]), (b, []), (c, ["3"]))));
        }
    }

    [Fact]
    public async Task A_region_whose_member_is_not_up_gets_no_new_shard_unless_none_is_up()
    {
        var a = Region(1);
        var b = Region(2);
        var strategy = Strategy();
        _up.Remove(_addresses[b]);

        foreach (var shard in AllShards)
            Assert.Equal(a, await strategy.AllocateShard(b, shard, Allocations((a, []), (b, []))));

        _up.Clear();
        var ring = RingPlacement(a, b);
        Assert.Equal(ring["5"], await strategy.AllocateShard(a, "5", Allocations((a, []), (b, []))));
    }

    [Fact]
    public async Task A_rebalance_moves_shards_off_the_regions_the_ring_does_not_give_them_to_a_limited_number_per_round()
    {
        var a = Region(1);
        var b = Region(2);
        // Everything on a, as after a cluster of one grew to two.
        var current = Allocations((a, AllShards), (b, []));
        var ring = RingPlacement(a, b);
        var strategy = Strategy(absoluteLimit: 20, relativeLimit: 0.1);

        var moves = await strategy.Rebalance(current, ImmutableHashSet<string>.Empty);

        Assert.Equal(10, moves.Count); // 10% of 100 shards, under the absolute 20
        Assert.All(moves, shard => Assert.Equal(b, ring[shard]));

        // Once everything is where the ring says, nothing moves.
        var settled = Allocations((a, AllShards.Where(s => ring[s] == a)), (b, AllShards.Where(s => ring[s] == b)));
        Assert.Empty(await strategy.Rebalance(settled, ImmutableHashSet<string>.Empty));
    }

    [Fact]
    public async Task Nothing_is_rebalanced_during_a_rebalance_a_membership_change_or_an_unreachable_member()
    {
        var a = Region(1);
        var b = Region(2);
        var current = Allocations((a, AllShards), (b, []));
        var strategy = Strategy();

        Assert.Empty(await strategy.Rebalance(current, ImmutableHashSet.Create("3")));
        _unreachable = true;
        Assert.Empty(await strategy.Rebalance(current, ImmutableHashSet<string>.Empty));
        _unreachable = false;
        _up.Remove(_addresses[b]);
        Assert.Empty(await strategy.Rebalance(current, ImmutableHashSet<string>.Empty));
        _up.Add(_addresses[b]);
        Assert.NotEmpty(await strategy.Rebalance(current, ImmutableHashSet<string>.Empty));
    }
}
