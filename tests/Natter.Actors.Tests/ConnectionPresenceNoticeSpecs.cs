using Akka.Actor;
using Akka.TestKit.Xunit2;
using Natter.Actors.Connections;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Protocol;
using Xunit;
using static Natter.Actors.Presence.PresenceCommands;

namespace Natter.Actors.Tests;

/// <summary>
/// A connection keeps the incarnation and node of the presence entity that registered it, and acts only on notices
/// about that one: a late goodbye from an entity it has moved on from, or the departure of another member, must not
/// make every connection register again; its own entity's goodbye must, at once. The presence region is a probe.
/// </summary>
public sealed class ConnectionPresenceNoticeSpecs() : TestKit("akka.loglevel = WARNING", "connection-presence-notice-specs")
{
    private static readonly UserId Bob = new("15550000002");
    private static readonly DeviceId Phone = new(1);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public void Only_a_notice_about_the_entity_that_registered_it_makes_a_connection_register_again()
    {
        var presence = CreateTestProbe();
        var connection = Connect(presence.Ref);
        Assert.False(presence.ExpectMsg<DeviceOnline>(Wait).Registered);
        presence.Reply(new PresenceRegistered(Bob, Phone, Incarnation: 7, Fresh: true));

        connection.Tell(new PresenceStopped(Bob, Phone, Incarnation: 6));
        connection.Tell(new MemberDeparted(Address.Parse("akka.tcp://natter@10.0.0.9:5055")));
        presence.ExpectNoMsg(TimeSpan.FromSeconds(1));

        connection.Tell(new PresenceStopped(Bob, Phone, Incarnation: 7));
        Assert.False(presence.ExpectMsg<DeviceOnline>(Wait).Registered);
    }

    [Fact]
    public void The_departure_of_the_member_its_entity_lives_on_makes_a_connection_register_again()
    {
        var presence = CreateTestProbe();
        var connection = Connect(presence.Ref);
        presence.ExpectMsg<DeviceOnline>(Wait);
        presence.Reply(new PresenceRegistered(Bob, Phone, Incarnation: 7, Fresh: true));

        // The probe answered from this system's address: that member is where the entity lives.
        connection.Tell(new MemberDeparted(((ExtendedActorSystem)Sys).Provider.DefaultAddress));
        Assert.False(presence.ExpectMsg<DeviceOnline>(Wait).Registered);
    }

    private IActorRef Connect(IActorRef presence)
    {
        var gateway = new ChatGateway(CreateTestProbe().Ref, CreateTestProbe().Ref, Wait);
        var outbound = new RecordingOutbound();
        var connection = Sys.ActorOf(ConnectionActor.PropsFor(Bob, Phone, ConnectionActor.NewConnectionId(), DateTimeOffset.UtcNow.AddHours(1),
            outbound, gateway, presence, CreateTestProbe().Ref, new ConnectionSettings()));
        outbound.Next<WelcomeFrame>(Wait);
        return connection;
    }
}
