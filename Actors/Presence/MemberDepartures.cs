using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Natter.Actors.Connections;
using static Natter.Actors.Presence.PresenceCommands;

namespace Natter.Actors.Presence;

/// <summary>
/// One per process: when a cluster member is removed, tells every connection and every presence entity of this
/// process (<see cref="MemberDeparted"/>), so connections whose presence entity lived there register again and
/// entities forget the devices whose connections lived there. This replaces a remote death watch per connection
/// in each direction, which Akka's cluster also ends only at the member's removal. It also drops the member's
/// address (and any other no longer a member's) from <see cref="NodeAddresses"/>.
/// </summary>
public sealed class MemberDepartures : UntypedActor
{
    /// <summary>Where connections live: the edge starts every ConnectionActor under /user with its name prefix.</summary>
    public const string ConnectionsSelection = "/user/" + ConnectionActor.NamePrefix + "*";

    /// <summary>Where presence entities live: shard actors under the region, entities under their shard.</summary>
    public const string PresenceEntitiesSelection = "/system/sharding/presence/*/*";

    private readonly ILoggingAdapter _log = Context.GetLogger();

    public static Props Props() => Akka.Actor.Props.Create<MemberDepartures>();

    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    protected override void OnReceive(object message)
    {
        if (message is not ClusterEvent.MemberRemoved removed) return;
        var cluster = Cluster.Get(Context.System);
        // The cluster's view may still list the removed member for a moment: it is left out by name.
        NodeAddresses.RetainOnly(cluster.State.Members.Select(m => m.Address).Where(a => !a.Equals(removed.Member.Address)).ToHashSet());
        var departed = new MemberDeparted(removed.Member.Address);
        _log.Info("Member {0} ({1}) was removed: telling this process's connections and presence entities",
            removed.Member.Address, string.Join(",", removed.Member.Roles));
        Context.ActorSelection(ConnectionsSelection).Tell(departed);
        Context.ActorSelection(PresenceEntitiesSelection).Tell(departed);
    }
}
