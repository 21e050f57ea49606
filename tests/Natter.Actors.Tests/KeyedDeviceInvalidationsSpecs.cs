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
/// pub-sub mediator: the cache keeps answers only once subscribed, up, and the subscription given time to spread;
/// forgets a user when told; starts afresh when a member that hosts users comes up or is reachable again; and stops
/// keeping anything when the subscriber stops.
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
    public void The_cache_keeps_answers_once_subscribed_and_up_and_the_subscription_spread_forgets_a_changed_user_and_starts_afresh()
    {
        var cache = new KeyedDeviceCache(TimeSpan.FromMinutes(1), 100, TimeSpan.FromSeconds(10), _clock);
        var mediator = CreateTestProbe("mediator");
        var subscriber = Sys.ActorOf(KeyedDeviceInvalidations.PropsFor(cache, mediator.Ref));

        var subscribe = mediator.ExpectMsg<Subscribe>(Wait);
        Assert.Equal(KeyedDevicesChanged.Topic, subscribe.Topic);
        mediator.Reply(new SubscribeAck(subscribe));
        // Acknowledged here, but no other mediator hears of it before this member is up.
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.False(cache.Listening);
        Cluster.Get(Sys).Join(Cluster.Get(Sys).SelfAddress);
        AwaitCondition(() => cache.Listening, Wait);
        // Up: the subscription now spreads by gossip, so nothing asked yet is kept.
        Assert.False(KeepsBobNow(cache));
        _clock.Advance(KeyedDeviceInvalidations.SubscriptionSpread);
        Assert.True(KeepsBobNow(cache));

        subscriber.Tell(new KeyedDevicesChanged(Bob));
        AwaitCondition(() => cache.Find(Bob) is null, Wait);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(KeepsBobNow(cache));

        // A member that hosts users ("node") comes up, or is reachable again: what it published before the subscription
        // reached it went unheard, so the cache drops everything and waits again.
        var node = Cluster.Get(Sys).State.Members.Single();
        foreach (var news in new object[] { new ClusterEvent.MemberUp(node), new ClusterEvent.ReachableMember(node) })
        {
            subscriber.Tell(news);
            AwaitCondition(() => cache.Find(Bob) is null, Wait);
            Assert.False(KeepsBobNow(cache));
            _clock.Advance(KeyedDeviceInvalidations.SubscriptionSpread);
            Assert.True(KeepsBobNow(cache));
        }

        Sys.Stop(subscriber);
        AwaitCondition(() => !cache.Listening, Wait);
        Assert.Null(cache.Find(Bob));
        Assert.False(KeepsBobNow(cache));
    }
}
