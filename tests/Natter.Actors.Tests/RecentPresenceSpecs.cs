using Natter.Actors.Notifications;
using Natter.Actors.Presence;
using Natter.Messages;
using Natter.Testing;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>The notification projection's reuse of presence answers, on a clock the spec moves.</summary>
public sealed class RecentPresenceSpecs
{
    private static readonly UserId Alice = new("15550000001");
    private static readonly UserId Bob = new("15550000002");

    private readonly ManualClock _time = new();
    private readonly List<UserId> _asked = [];

    private Task<PresenceCommands.PresenceStatus> Ask(UserId user)
    {
        _asked.Add(user);
        return Task.FromResult(new PresenceCommands.PresenceStatus(user, [], null));
    }

    private RecentPresence Reusing(TimeSpan reuse) => new(reuse, _time);

    [Fact]
    public async Task A_recipient_is_asked_once_within_the_reuse_time_and_again_after_it()
    {
        var presence = Reusing(TimeSpan.FromSeconds(1));

        await presence.GetAsync(Alice, Ask);
        _time.Advance(TimeSpan.FromMilliseconds(900));
        await presence.GetAsync(Alice, Ask);
        await presence.GetAsync(Bob, Ask);
        Assert.Equal([Alice, Bob], _asked);

        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(Alice, (await presence.GetAsync(Alice, Ask)).UserId);
        Assert.Equal([Alice, Bob, Alice], _asked);
    }

    [Fact]
    public async Task An_ask_under_way_is_shared_and_a_failed_one_is_asked_again()
    {
        var presence = Reusing(TimeSpan.FromSeconds(1));
        var pending = new TaskCompletionSource<PresenceCommands.PresenceStatus>();
        var asks = 0;

        var first = presence.GetAsync(Alice, _ => { asks++; return pending.Task; });
        var second = presence.GetAsync(Alice, _ => { asks++; return pending.Task; });
        Assert.Same(first, second);
        pending.SetException(new TimeoutException());
        await Assert.ThrowsAsync<TimeoutException>(() => first);

        await presence.GetAsync(Alice, Ask);
        Assert.Equal(1, asks);
        Assert.Equal([Alice], _asked);
    }

    [Fact]
    public async Task Answers_too_old_to_reuse_are_pruned_and_zero_reuse_keeps_nothing()
    {
        var presence = Reusing(TimeSpan.FromSeconds(1));
        await presence.GetAsync(Alice, Ask);
        _time.Advance(TimeSpan.FromMilliseconds(500));
        await presence.GetAsync(Bob, Ask);
        _time.Advance(TimeSpan.FromMilliseconds(700));
        presence.Prune();
        Assert.Equal(1, presence.Count);

        var never = Reusing(TimeSpan.Zero);
        await never.GetAsync(Alice, Ask);
        await never.GetAsync(Alice, Ask);
        Assert.Equal(0, never.Count);
        Assert.Equal(4, _asked.Count);
    }
}
