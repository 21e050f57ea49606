using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Users;
using Natter.Testing;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>
/// An edge's subscriber to users' device changes, in a one-member cluster over loopback remoting with a probe as the
/// pub-sub mediator: the cache keeps answers only once the subscription has had time to spread, forgets a user when
/// told, starts afresh when a member that hosts users comes up, and stops keeping anything when the subscriber stops.
/// </summary>
public sealed class KeyedDeviceInvalidationsSpecs() : TestKit(ClusterConfig, "keyed-device-invalidations")
{
    private static readonly Config ClusterConfig = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.cluster.roles = ["node"]
        """);

    private static readonly UserId Bob = new("15550000401");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly ManualClock _clock = new();

    private static KeyedDeviceSet Bobs(byte key) => new(Bob, [(new DeviceId(1), Enumerable.Repeat(key, 32).ToArray())]);

    private bool KeepsBobNow(KeyedDeviceCache cache)
    {
        cache.Keep(Bobs(1), cache.Now());
        return cache.Find(Bob) is not null;
    }

    [Fact]
    public void The_cache_keeps_answers_once_the_subscription_has_spread_forgets_a_changed_user_and_starts_afresh_when_a_node_comes_up()
    {
        var cache = new KeyedDeviceCache(TimeSpan.FromMinutes(1), 100, TimeSpan.FromSeconds(10), _clock);
        var mediator = CreateTestProbe("mediator");
        var subscriber = Sys.ActorOf(KeyedDeviceInvalidations.PropsFor(cache, mediator.Ref));

        var subscribe = mediator.ExpectMsg<Subscribe>(Wait);
        Assert.Equal(KeyedDevicesChanged.Topic, subscribe.Topic);
        Assert.False(KeepsBobNow(cache));
        mediator.Reply(new SubscribeAck(subscribe));
        AwaitCondition(() => cache.Listening, Wait);
        // Acknowledged here; the node's mediator learns of it by gossip, so nothing asked yet is kept.
        Assert.False(KeepsBobNow(cache));
        _clock.Advance(KeyedDeviceInvalidations.SubscriptionSpread);
        Assert.True(KeepsBobNow(cache));

        subscriber.Tell(new KeyedDevicesChanged(Bob));
        AwaitCondition(() => cache.Find(Bob) is null, Wait);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(KeepsBobNow(cache));

        // This member, which hosts users ("node"), comes up: what it published before the subscription reached it
        // went unheard, so the cache drops everything and waits again.
        Cluster.Get(Sys).Join(Cluster.Get(Sys).SelfAddress);
        AwaitCondition(() => cache.Find(Bob) is null, Wait);
        Assert.False(KeepsBobNow(cache));
        _clock.Advance(KeyedDeviceInvalidations.SubscriptionSpread);
        Assert.True(KeepsBobNow(cache));

        Sys.Stop(subscriber);
        AwaitCondition(() => !cache.Listening, Wait);
        Assert.Null(cache.Find(Bob));
        Assert.False(KeepsBobNow(cache));
    }
}
