using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Natter.Actors.Hosting;
using Natter.Messages.Users;

namespace Natter.Actors.Services;

/// <summary>
/// One per edge process: subscribes to <see cref="KeyedDevicesChanged.Topic"/> and drops the changed user's entry from
/// the process's <see cref="KeyedDeviceCache"/>. A node's mediator learns of the subscription only by gossip, so the
/// cache starts keeping answers a little after the subscription is acknowledged, and starts afresh in the same way
/// whenever a node comes up or becomes reachable again (what it published meanwhile may not have reached this process).
/// </summary>
public sealed class KeyedDeviceInvalidations : UntypedActor
{
    /// <summary>Time for a subscription to reach every mediator: a few rounds of pub-sub's gossip (1 s apart by default).</summary>
    public static readonly TimeSpan SubscriptionSpread = TimeSpan.FromSeconds(3);

    private readonly KeyedDeviceCache _cache;
    private readonly IActorRef _mediator;

    public KeyedDeviceInvalidations(KeyedDeviceCache cache, IActorRef mediator)
    {
        _cache = cache;
        _mediator = mediator;
    }

    public static Props PropsFor(KeyedDeviceCache cache, IActorRef mediator) =>
        Props.Create(() => new KeyedDeviceInvalidations(cache, mediator));

    protected override void PreStart()
    {
        _mediator.Tell(new Subscribe(KeyedDevicesChanged.Topic, Self));
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.ReachableMember));
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case KeyedDevicesChanged changed: _cache.Changed(changed.UserId); break;
            case SubscribeAck: _cache.Listen(SubscriptionSpread); break;
            case ClusterEvent.MemberUp { Member: var member } when HostsUsers(member): Afresh(); break;
            case ClusterEvent.ReachableMember { Member: var member } when HostsUsers(member): Afresh(); break;
            case ClusterEvent.MemberUp or ClusterEvent.ReachableMember or ClusterEvent.CurrentClusterState: break;
            default: Unhandled(message); break;
        }
    }

    private static bool HostsUsers(Member member) => member.HasRole(NatterRoles.Node);

    private void Afresh()
    {
        if (_cache.Listening) _cache.Listen(SubscriptionSpread);
    }

    protected override void PostStop()
    {
        Cluster.Get(Context.System).Unsubscribe(Self);
        // Nothing tells the cache of changes any more.
        _cache.StopListening();
    }
}
