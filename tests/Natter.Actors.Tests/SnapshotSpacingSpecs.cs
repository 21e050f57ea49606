using Natter.Actors.Chats;
using Natter.Messages;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>Chats that start together do not all snapshot together (<see cref="ChatSettings.SnapshotSpacingFor"/>).</summary>
public sealed class SnapshotSpacingSpecs
{
    private static readonly string[] HundredChats = Enumerable.Range(0, 100)
        .Select(i => ChatActor.PersistenceIdOf(ChatId.Direct(new UserId($"1555{i:D7}"), new UserId($"1666{i:D7}"))))
        .ToArray();

    [Fact]
    public void Each_chat_snapshots_after_snapshot_every_plus_at_most_a_quarter_of_it()
    {
        var settings = new ChatSettings { SnapshotEvery = 1000 };
        Assert.All(HundredChats, id => Assert.InRange(settings.SnapshotSpacingFor(id), 1000, 1250));
    }

    [Fact]
    public void A_chats_spacing_is_the_same_every_time_and_chats_are_spread_over_the_range()
    {
        var settings = new ChatSettings { SnapshotEvery = 1000 };
        Assert.Equal(HundredChats.Select(settings.SnapshotSpacingFor), HundredChats.Select(settings.SnapshotSpacingFor));
        var spacings = HundredChats.Select(settings.SnapshotSpacingFor).ToList();
        Assert.True(spacings.Distinct().Count() >= 60, $"only {spacings.Distinct().Count()} distinct spacings");
        Assert.True(spacings.Max() - spacings.Min() >= 200, $"spread over {spacings.Max() - spacings.Min()} events only");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]  // as before the spacing existed, zero or less means a snapshot after every event
    [InlineData(-5)]
    public void A_snapshot_every_event_stays_every_event(int snapshotEvery)
    {
        Assert.All(HundredChats, id => Assert.Equal(1, new ChatSettings { SnapshotEvery = snapshotEvery }.SnapshotSpacingFor(id)));
    }
}
