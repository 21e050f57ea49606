using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Natter.Actors.Hosting;
using Natter.Messages.Users;

namespace Natter.Actors.Services;

/// <summary>
/// One per edge process: subscribes to <see cref="KeyedDevicesChanged.Topic"/> and drops the changed user's entry from
/// the process's <see cref="KeyedDeviceCache"/>. A node's mediator learns of the subscription only by gossip, and only
/// once it sees this member up, so the cache starts keeping answers <see cref="SubscriptionSpread"/> after both the
/// subscription is acknowledged and this member is up; and it starts afresh in the same way whenever a member that
/// hosts users comes up or becomes reachable again (what it published meanwhile may not have reached this process).
/// </summary>
public sealed class KeyedDeviceInvalidations : UntypedActor
{
    /// <summary>
    /// Time given to a subscription to reach every mediator. Each gossips with one other member a second, so a cluster
    /// of a few dozen members takes a few rounds; beyond this, a change missed is outlived by the cache's time to live.
    /// </summary>
    public static readonly TimeSpan SubscriptionSpread = TimeSpan.FromSeconds(10);

    private readonly KeyedDeviceCache _cache;
    private readonly IActorRef _mediator;
    private readonly UniqueAddress _self;
    private bool _subscribed;
    private bool _up;

    public KeyedDeviceInvalidations(KeyedDeviceCache cache, IActorRef mediator)
    {
        _cache = cache;
        _mediator = mediator;
        _self = Cluster.Get(Context.System).SelfUniqueAddress;
    }

    public static Props PropsFor(KeyedDeviceCache cache, IActorRef mediator) =>
        Props.Create(() => new KeyedDeviceInvalidations(cache, mediator));

    protected override void PreStart()
    {
        _mediator.Tell(new Subscribe(KeyedDevicesChanged.Topic, Self));
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberWeaklyUp), typeof(ClusterEvent.ReachableMember));
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case KeyedDevicesChanged changed:
                _cache.Changed(changed.UserId);
                break;
            case SubscribeAck:
                _subscribed = true;
                ListenIfReady();
                break;
            case ClusterEvent.CurrentClusterState state:
                if (!_up && state.Members.Any(m => m.UniqueAddress == _self && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp)) Up();
                break;
            case ClusterEvent.IMemberEvent { Member: var member } when member.UniqueAddress == _self && !_up:
                Up();
                break;
            case ClusterEvent.MemberUp { Member: var member } when HostsUsers(member):
                Afresh();
                break;
            case ClusterEvent.ReachableMember { Member: var member } when HostsUsers(member):
                Afresh();
                break;
            case ClusterEvent.IMemberEvent or ClusterEvent.ReachableMember:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private static bool HostsUsers(Member member) => member.HasRole(NatterRoles.Node);

    private void Up()
    {
        _up = true;
        ListenIfReady();
    }

    private void ListenIfReady()
    {
        if (_subscribed && _up) _cache.Listen(SubscriptionSpread);
    }

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
