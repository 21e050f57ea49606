using Natter.Actors.Services;
using Natter.Messages;
using Natter.Testing;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>The rules of an edge's cache of users' devices for sealed sends, on a clock the spec moves.</summary>
public sealed class KeyedDeviceCacheSpecs
{
    private static readonly UserId Bob = new("15550000201");
    private static readonly UserId Carol = new("15550000202");
    private static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private readonly ManualClock _clock = new();

    private KeyedDeviceCache Listening(int capacity = 100)
    {
        var cache = new KeyedDeviceCache(TimeToLive, capacity, AskTimeout, _clock);
        cache.Listen(TimeSpan.Zero);
        return cache;
    }

    private static KeyedDeviceSet SetOf(UserId user, byte key) => new(user, [(new DeviceId(1), Enumerable.Repeat(key, 32).ToArray())]);

    private void Tick() => _clock.Advance(TimeSpan.FromMilliseconds(1));

    [Fact]
    public void An_answer_is_used_until_its_time_to_live_counted_from_the_ask_has_passed()
    {
        var cache = Listening();
        var askedAt = cache.Now();
        _clock.Advance(TimeSpan.FromSeconds(5));
        cache.Keep(SetOf(Bob, 1), askedAt);

        Assert.Equal(SetOf(Bob, 1).Devices[0].IdentityKey, cache.Find(Bob)!.Devices[0].IdentityKey);
        _clock.Advance(TimeToLive - TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.NotNull(cache.Find(Bob));
        Tick();
        Assert.Null(cache.Find(Bob));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Nothing_is_kept_or_found_while_changes_are_not_heard_nor_from_asks_begun_before_the_grace_has_passed()
    {
        var cache = new KeyedDeviceCache(TimeToLive, 100, AskTimeout, _clock);
        cache.Keep(SetOf(Bob, 1), cache.Now());
        Assert.Null(cache.Find(Bob));
        Assert.Equal(0, cache.Count);

        var askedBefore = cache.Now();
        cache.Listen(TimeSpan.FromSeconds(3));
        _clock.Advance(TimeSpan.FromSeconds(3));
        cache.Keep(SetOf(Bob, 1), askedBefore);
        Assert.Null(cache.Find(Bob));
        cache.Keep(SetOf(Bob, 1), cache.Now());
        Assert.NotNull(cache.Find(Bob));

        // Afresh (a member came up): everything dropped, and the grace again.
        cache.Listen(TimeSpan.FromSeconds(3));
        Assert.Null(cache.Find(Bob));
        cache.Keep(SetOf(Bob, 1), cache.Now());
        Assert.Null(cache.Find(Bob));

        // The subscription ended: what is kept could miss a change from now on.
        _clock.Advance(TimeSpan.FromSeconds(3));
        cache.Keep(SetOf(Bob, 1), cache.Now());
        cache.StopListening();
        Assert.Null(cache.Find(Bob));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void An_answer_later_than_any_ask_could_take_is_not_kept()
    {
        var cache = Listening();
        var askedAt = cache.Now();
        _clock.Advance(AskTimeout * 2);
        cache.Keep(SetOf(Bob, 1), askedAt);
        Assert.Null(cache.Find(Bob));
    }

    [Fact]
    public void A_change_drops_the_user_and_refuses_answers_to_asks_begun_before_it()
    {
        var cache = Listening();
        cache.Keep(SetOf(Bob, 1), cache.Now());
        cache.Keep(SetOf(Carol, 1), cache.Now());
        var askedBefore = cache.Now();
        Tick();

        cache.Changed(Bob);
        Assert.Null(cache.Find(Bob));
        Assert.NotNull(cache.Find(Carol));
        // An answer read before the change may describe the devices before it.
        cache.Keep(SetOf(Bob, 1), askedBefore);
        Assert.Null(cache.Find(Bob));
        // One asked after it is kept.
        Tick();
        cache.Keep(SetOf(Bob, 2), cache.Now());
        Assert.Equal(2, cache.Find(Bob)!.Devices[0].IdentityKey[0]);
    }

    [Fact]
    public void A_full_cache_makes_room_from_expired_entries_and_otherwise_keeps_nothing_new()
    {
        var cache = Listening(capacity: 1);
        cache.Keep(SetOf(Bob, 1), cache.Now());
        cache.Keep(SetOf(Carol, 1), cache.Now());
        Assert.Null(cache.Find(Carol));
        // The user already kept is still renewed.
        cache.Keep(SetOf(Bob, 2), cache.Now());
        Assert.Equal(2, cache.Find(Bob)!.Devices[0].IdentityKey[0]);

        // A change makes room at once.
        cache.Changed(Bob);
        cache.Keep(SetOf(Carol, 1), cache.Now());
        Assert.NotNull(cache.Find(Carol));
        cache.Changed(Carol);
        Tick();
        cache.Keep(SetOf(Bob, 2), cache.Now());
        Assert.Equal(2, cache.Find(Bob)!.Devices[0].IdentityKey[0]);

        // Expired, and a quarter of the time to live since the last sweep: swept to make room.
        _clock.Advance(TimeToLive);
        cache.Keep(SetOf(Carol, 1), cache.Now());
        Assert.NotNull(cache.Find(Carol));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Settings_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyedDeviceCache(TimeSpan.Zero, 1, AskTimeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyedDeviceCache(TimeToLive, 0, AskTimeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyedDeviceCache(TimeToLive, 1, TimeSpan.Zero));
    }
}
