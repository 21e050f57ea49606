using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Natter.Actors.Connections;
using Natter.Actors.Presence;
using Xunit;
using static Natter.Actors.Presence.PresenceCommands;

namespace Natter.Actors.Tests;

/// <summary>
/// A real two-member cluster over loopback remoting: when one member leaves, the other's
/// <see cref="MemberDepartures"/> tells its connections and its presence entities, found where the edge and the
/// sharding put them.
/// </summary>
public sealed class MemberDeparturesSpecs() : TestKit(ClusterConfig, SystemName)
{
    private const string SystemName = "member-departures-specs";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static readonly Config ClusterConfig = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.cluster.min-nr-of-members = 1
        """);

    [Fact]
    public async Task The_connections_and_presence_entities_of_this_process_learn_that_a_member_left_and_its_address_is_forgotten()
    {
        var self = Cluster.Get(Sys);
        self.Join(self.SelfAddress);
        Sys.ActorOf(Forwarder.Props(TestActor), ConnectionActor.NamePrefix + "bob-1-c1");
        Sys.ActorOf(Forwarder.Props(TestActor), "not-a-connection");
        ((ExtendedActorSystem)Sys).SystemActorOf(Forwarder.Props(TestActor, "presence", "17", "bob"), "sharding");
        Sys.ActorOf(MemberDepartures.Props(), "member-departures");

        var other = ActorSystem.Create(SystemName, ClusterConfig);
        try
        {
            var otherCluster = Cluster.Get(other);
            otherCluster.Join(self.SelfAddress);
            AwaitCondition(() => self.State.Members.Count(m => m.Status == MemberStatus.Up) == 2, Wait);
            NodeAddresses.Intern(otherCluster.SelfAddress); // as a connection registered with an entity there does

            await otherCluster.LeaveAsync();

            var told = new[] { ExpectMsg<(string, MemberDeparted)>(Wait), ExpectMsg<(string, MemberDeparted)>(Wait) };
            Assert.Equal(["bob", ConnectionActor.NamePrefix + "bob-1-c1"], told.Select(t => t.Item1).Order());
            Assert.All(told, t => Assert.Equal(otherCluster.SelfAddress, t.Item2.Address));
            Assert.False(NodeAddresses.Contains(otherCluster.SelfAddress), "the removed member's address is still interned");
            ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        }
        finally
        {
            await other.Terminate();
        }
    }

    /// <summary>Starts the named chain of children under itself; the last of them (or it) reports what it is told.</summary>
    private sealed class Forwarder(IActorRef reportTo, string[] children) : UntypedActor
    {
        public static Props Props(IActorRef reportTo, params string[] children) =>
            Akka.Actor.Props.Create<Forwarder>(reportTo, children);

        protected override void PreStart()
        {
            if (children.Length > 0) Context.ActorOf(Props(reportTo, children[1..]), children[0]);
        }

        protected override void OnReceive(object message)
        {
            if (message is MemberDeparted departed) reportTo.Tell((Self.Path.Name, departed));
        }
    }
}
