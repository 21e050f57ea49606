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
        new(ShardCount, absoluteLimit, relativeLimit, r => _addresses[r], a => _up.Contains(a), () => !_unreachable);

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
    public async Task Rounds_of_rebalancing_converge_on_the_ring_placement_and_then_stop()
    {
        var a = Region(1);
        var b = Region(2);
        var c = Region(3);
        var strategy = Strategy();
        // Everything on a, as after a cluster of one grew to three; each round's moves are allocated again.
        var placed = AllShards.ToDictionary(s => s, _ => a);
        IImmutableDictionary<IActorRef, IImmutableList<string>> Current() => new[] { a, b, c }
            .ToImmutableDictionary(r => r, r => (IImmutableList<string>)placed.Where(p => p.Value.Equals(r)).Select(p => p.Key).ToImmutableList());

        var rounds = 0;
        for (var moves = await strategy.Rebalance(Current(), ImmutableHashSet<string>.Empty); moves.Count > 0;
             moves = await strategy.Rebalance(Current(), ImmutableHashSet<string>.Empty))
        {
            Assert.InRange(++rounds, 1, 10); // 100 shards, 10 a round at most
            foreach (var shard in moves) placed.Remove(shard);
            foreach (var shard in moves) placed[shard] = await strategy.AllocateShard(a, shard, Current());
        }

        Assert.Equal(RingPlacement(a, b, c), placed);
    }

    [Fact]
    public async Task Two_regions_at_one_address_a_member_back_before_its_old_region_is_removed_stop_rebalancing_without_failing()
    {
        var a = Region(1);
        var old = Region(2);
        var again = CreateTestProbe("region-2-again").Ref;
        _addresses[again] = _addresses[old];
        var current = Allocations((a, AllShards), (old, []), (again, []));
        var strategy = Strategy();

        Assert.Empty(await strategy.Rebalance(current, ImmutableHashSet<string>.Empty));
        // New shards go to the one address that is not in doubt.
        Assert.Equal(a, await strategy.AllocateShard(again, "7", current));
    }

    [Fact]
    public void A_region_s_member_address_is_its_own_or_for_the_coordinator_s_local_region_the_member_s()
    {
        var self = new Address("akka.tcp", "natter", "10.0.0.9", 4053);
        var remote = new Address("akka.tcp", "natter", "10.0.0.2", 4053);
        var local = CreateTestProbe("local-region").Ref;

        Assert.Equal(self, ConsistentHashingAllocation.AddressOf(local, self));
        Assert.Equal(remote, ConsistentHashingAllocation.AddressOf(new RemoteLookingRef(remote), self));
    }

    /// <summary>A ref whose path has a host and port, as a remote region's has.</summary>
    private sealed class RemoteLookingRef(Address address) : MinimalActorRef
    {
        public override ActorPath Path { get; } = new RootActorPath(address) / "system" / "sharding" / "chat";

        public override IActorRefProvider Provider => throw new NotSupportedException();
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
