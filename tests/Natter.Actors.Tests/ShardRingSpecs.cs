using Natter.Actors.Hosting;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>Consistent hashing with bounded loads: every shard placed, no node over its bound, few shards moved when membership changes.</summary>
public sealed class ShardRingSpecs
{
    private static readonly string[] Shards = Enumerable.Range(0, 100).Select(i => i.ToString()).ToArray();

    private static string[] Nodes(int count, int first = 1) =>
        Enumerable.Range(first, count).Select(i => $"akka.tcp://natter@10.0.0.{i}:4053").ToArray();

    private static int Moved(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after) =>
        Shards.Count(s => before[s] != after[s]);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(10)]
    public void Every_shard_has_a_node_and_no_node_holds_more_than_its_bound(int nodes)
    {
        var placement = ShardRing.Place(Nodes(nodes), Shards);

        Assert.Equal(Shards.Length, placement.Count);
        var bound = (int)Math.Ceiling(ShardRing.LoadFactor * Shards.Length / nodes);
        Assert.All(placement.GroupBy(p => p.Value), node => Assert.InRange(node.Count(), 1, bound));
    }

    [Fact]
    public void The_placement_depends_only_on_the_sets_of_nodes_and_shards()
    {
        var placement = ShardRing.Place(Nodes(3), Shards);

        Assert.Equal(placement, ShardRing.Place(Nodes(3).Reverse(), Shards.Reverse()));
        Assert.Equal(placement, ShardRing.Place(Nodes(3).Append(Nodes(3)[0]), Shards));
    }

    [Fact]
    public void A_node_joining_takes_about_its_share_and_the_others_keep_nearly_all_of_theirs()
    {
        var three = ShardRing.Place(Nodes(3), Shards);
        var four = ShardRing.Place(Nodes(4), Shards);
        var joined = Nodes(4)[3];

        // Hash-mod-N would move about three quarters; the newcomer's fair share is a quarter.
        var moved = Moved(three, four);
        Assert.InRange(moved, 15, 40);
        Assert.True(Shards.Count(s => three[s] != four[s] && four[s] == joined) >= moved * 3 / 4,
            "most moves go to the new node, not between the old ones");
    }

    [Fact]
    public void A_node_leaving_gives_up_its_shards_and_the_others_keep_nearly_all_of_theirs()
    {
        var four = ShardRing.Place(Nodes(4), Shards);
        var three = ShardRing.Place(Nodes(3), Shards);
        var left = Nodes(4)[3];

        var mustMove = Shards.Count(s => four[s] == left);
        Assert.All(Shards.Where(s => four[s] == left), s => Assert.NotEqual(left, three[s]));
        Assert.InRange(Moved(four, three), mustMove, mustMove + 10);
    }

    [Fact]
    public void No_nodes_place_nothing()
    {
        Assert.Empty(ShardRing.Place([], Shards));
    }
}
