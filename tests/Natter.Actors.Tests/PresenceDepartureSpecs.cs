using Akka.Actor;
using Akka.TestKit.Xunit2;
using Natter.Actors.Presence;
using Natter.Messages;
using Xunit;
using static Natter.Actors.Presence.PresenceCommands;

namespace Natter.Actors.Tests;

/// <summary>
/// A presence entity watches no connection: it forgets a device when the cluster member that held its connection
/// departs, or when the connection's refreshes stop; and it tells its connections when it stops itself, so they
/// register again with the entity that follows.
/// </summary>
public sealed class PresenceDepartureSpecs() : TestKit("akka.loglevel = WARNING", "presence-departure-specs")
{
    private static readonly UserId Bob = new("15550000002");
    private static readonly DeviceId Phone = new(1);
    private static readonly DeviceId Laptop = new(2);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public void An_entity_forgets_the_devices_of_a_departed_member_and_only_those()
    {
        var entity = StartEntity();
        var phone = Online(entity, Phone, refreshSeconds: 30);

        entity.Tell(new MemberDeparted(Address.Parse("akka.tcp://natter@10.0.0.9:5055")));
        Assert.Equal([Phone], OnlineDevices(entity));

        entity.Tell(new MemberDeparted(((ExtendedActorSystem)Sys).Provider.DefaultAddress)); // where the probe lives
        Assert.Empty(OnlineDevices(entity));
        phone.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // forgotten, not told anything
    }

    [Fact]
    public void A_device_whose_refreshes_stop_is_taken_as_gone_while_one_that_refreshes_stays()
    {
        var entity = StartEntity();
        _ = Online(entity, Phone, refreshSeconds: 1);
        var laptop = Online(entity, Laptop, refreshSeconds: 1);

        // The laptop refreshes at every check, half a second apart; the phone's goodbye was lost, and it says
        // nothing more. Once the phone has gone, the laptop must still be there.
        AwaitAssert(() =>
        {
            entity.Tell(Refresh(Laptop, laptop, registered: true, refreshSeconds: 1));
            Assert.Equal([Laptop], OnlineDevices(entity));
        }, TimeSpan.FromSeconds(PresenceActor.MissedRefreshes + 3), TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public void An_entity_that_stops_tells_each_of_its_connections_with_the_incarnation_they_registered_with()
    {
        var entity = StartEntity();
        var phone = CreateTestProbe();
        entity.Tell(Refresh(Phone, phone.Ref, registered: false, refreshSeconds: 30));
        var registered = phone.ExpectMsg<PresenceRegistered>(Wait);

        Watch(entity);
        entity.Tell(PoisonPill.Instance);
        ExpectTerminated(entity, Wait);

        var stopped = phone.ExpectMsg<PresenceStopped>(Wait);
        Assert.Equal((Bob, Phone, registered.Incarnation), (stopped.UserId, stopped.Device, stopped.Incarnation));
    }

    [Fact]
    public void Every_start_of_an_entity_is_a_new_incarnation_and_a_refresh_keeps_the_one_it_has()
    {
        var phone = CreateTestProbe();
        var first = StartEntity();
        first.Tell(Refresh(Phone, phone.Ref, registered: false, refreshSeconds: 30));
        var firstIncarnation = phone.ExpectMsg<PresenceRegistered>(Wait).Incarnation;
        first.Tell(Refresh(Phone, phone.Ref, registered: false, refreshSeconds: 30)); // asks again: same answer
        Assert.Equal(firstIncarnation, phone.ExpectMsg<PresenceRegistered>(Wait).Incarnation);

        var second = StartEntity();
        second.Tell(Refresh(Phone, phone.Ref, registered: false, refreshSeconds: 30));
        Assert.NotEqual(firstIncarnation, phone.ExpectMsg<PresenceRegistered>(Wait).Incarnation);
    }

    private IActorRef StartEntity() =>
        Sys.ActorOf(PresenceActor.PropsFor(Bob.Value, CreateTestProbe().Ref, CreateTestProbe().Ref));

    private Akka.TestKit.TestProbe Online(IActorRef entity, DeviceId device, int refreshSeconds)
    {
        var connection = CreateTestProbe();
        entity.Tell(Refresh(device, connection.Ref, registered: false, refreshSeconds));
        connection.ExpectMsg<PresenceRegistered>(Wait);
        return connection;
    }

    private static DeviceOnline Refresh(DeviceId device, IActorRef connection, bool registered, int refreshSeconds) =>
        new(Bob, device, $"connection-{device.Value}", connection, ConnectedAt, DateTimeOffset.UtcNow, registered, refreshSeconds);

    private static readonly DateTimeOffset ConnectedAt = DateTimeOffset.UtcNow;

    private IReadOnlyList<DeviceId> OnlineDevices(IActorRef entity)
    {
        entity.Tell(new GetPresence(Bob));
        return ExpectMsg<PresenceStatus>(Wait).OnlineDevices;
    }
}
