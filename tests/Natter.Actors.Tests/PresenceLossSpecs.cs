using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Natter.Actors.Chats;
using Natter.Actors.Connections;
using Natter.Actors.Presence;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Natter.Messages.Users;
using Xunit;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatReplies;

namespace Natter.Actors.Tests;

/// <summary>
/// A connected device whose PresenceActor dies (its node failed, its shard moved): the pushes sent meanwhile are
/// lost with it, yet every acknowledged message still reaches the device without waiting for a later one.
/// Real ChatActors on SQLite, real PresenceActors and a real ConnectionActor; the shard regions are stand-ins that
/// can stop a presence entity (as a rebalance does: it says goodbye) or lose it the way a crashed node does.
/// </summary>
public sealed class PresenceLossSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000001");
    private static readonly UserId Bob = new("15550000002");
    private static readonly UserId Carol = new("15550000003");
    private static readonly DeviceId Phone = new(1);
    private static readonly ChatId AliceAndBob = ChatId.Direct(Alice, Bob);
    private static readonly ChatId CarolAndBob = ChatId.Direct(Carol, Bob);
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly StandInRegions _regions;
    private readonly IActorRef _chats;
    private readonly IActorRef _users;
    private readonly IActorRef _presence;

    public PresenceLossSpecs() : base(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "presence-loss-specs")
    {
        _regions = StandInRegions.Start(Sys);
        (_chats, _users, _presence) = _regions;
        CreateChat(AliceAndBob, Alice, Bob);
    }

    [Fact]
    public void A_message_acknowledged_while_the_recipients_presence_entity_was_down_reaches_the_connected_recipient_without_a_later_message()
    {
        var bob = Connect(Bob);
        Send(AliceAndBob, Alice, "m1");
        Assert.Equal(1, bob.NextMessage(AliceAndBob).Seq);

        _presence.Tell(new CrashablePresenceRegion.Crash(Bob));
        Send(AliceAndBob, Alice, "m2"); // acknowledged; its push to Bob is lost with the entity
        _presence.Tell(new CrashablePresenceRegion.Recover(Bob));

        var m2 = bob.NextMessage(AliceAndBob);
        Assert.Equal((2L, "m2"), (m2.Seq, m2.ClientMsgId));

        // And the new entity serves the connection live from then on.
        Send(AliceAndBob, Alice, "m3");
        Assert.Equal(3, bob.NextMessage(AliceAndBob).Seq);
    }

    [Fact]
    public void A_chat_that_started_while_the_presence_entity_was_down_reaches_a_synced_connection_too()
    {
        var bob = Connect(Bob);
        _users.Tell(new ChatListUsers.List(Bob, [AliceAndBob]));
        bob.Connection.Tell(new ConnectionMessages.Inbound(new SyncFrame()));
        bob.Next<SyncedFrame>();

        _presence.Tell(new CrashablePresenceRegion.Crash(Bob));
        CreateChat(CarolAndBob, Carol, Bob);
        _users.Tell(new ChatListUsers.List(Bob, [AliceAndBob, CarolAndBob]));
        Send(CarolAndBob, Carol, "hello");
        _presence.Tell(new CrashablePresenceRegion.Recover(Bob));

        var hello = bob.NextMessage(CarolAndBob);
        Assert.Equal((1L, "hello"), (hello.Seq, hello.ClientMsgId));
    }

    [Fact]
    public void A_catch_up_the_chat_does_not_answer_is_tried_again_without_an_error_to_the_client()
    {
        var bob = Connect(Bob, new ConnectionSettings { AskTimeout = TimeSpan.FromSeconds(1) });
        Send(AliceAndBob, Alice, "m1");
        Assert.Equal(1, bob.NextMessage(AliceAndBob).Seq);

        _presence.Tell(new CrashablePresenceRegion.Crash(Bob));
        Send(AliceAndBob, Alice, "m2");
        _chats.Tell(new ChatsRegion.DropFetches(2)); // its shard is moving too: the first two fetches time out
        _presence.Tell(new CrashablePresenceRegion.Recover(Bob));

        Assert.Equal("m2", bob.NextMessage(AliceAndBob, within: TimeSpan.FromSeconds(20)).ClientMsgId);
    }

    [Fact]
    public void A_connection_registers_again_when_its_presence_entity_dies_without_waiting_for_its_heartbeat()
    {
        var bob = Connect(Bob); // heartbeat 30 s: a registration within the wait below is the prompt one
        _presence.Tell(new CrashablePresenceRegion.Crash(Bob));
        _presence.Tell(new CrashablePresenceRegion.Recover(Bob));

        AwaitAssert(() =>
        {
            _presence.Tell(new PresenceCommands.GetPresence(Bob));
            Assert.Equal([Phone], ExpectMsg<PresenceCommands.PresenceStatus>(Wait).OnlineDevices);
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200));
        Send(AliceAndBob, Alice, "after");
        Assert.Equal("after", bob.NextMessage(AliceAndBob).ClientMsgId);
    }

    [Fact]
    public void A_connection_registers_again_when_the_node_of_its_presence_entity_leaves_the_cluster()
    {
        var bob = Connect(Bob); // heartbeat 30 s: only the departure explains a catch-up within the wait
        Send(AliceAndBob, Alice, "m1");
        Assert.Equal(1, bob.NextMessage(AliceAndBob).Seq);

        _presence.Tell(new CrashablePresenceRegion.Lose(Bob)); // no goodbye from the entity
        Send(AliceAndBob, Alice, "m2");
        // A member this connection's entity did not live on changes nothing; its own node's removal does.
        bob.Connection.Tell(new PresenceCommands.MemberDeparted(Address.Parse("akka.tcp://natter@10.0.0.9:5055")));
        bob.Connection.Tell(new PresenceCommands.MemberDeparted(((ExtendedActorSystem)Sys).Provider.DefaultAddress));
        _presence.Tell(new CrashablePresenceRegion.Recover(Bob));

        Assert.Equal("m2", bob.NextMessage(AliceAndBob).ClientMsgId);
        Send(AliceAndBob, Alice, "m3");
        Assert.Equal("m3", bob.NextMessage(AliceAndBob).ClientMsgId);
    }

    [Fact]
    public void A_device_its_entity_took_as_gone_by_mistake_catches_up_when_its_refresh_registers_it_again()
    {
        var bob = Connect(Bob, new ConnectionSettings { HeartbeatSeconds = 2 });
        Send(AliceAndBob, Alice, "m1");
        Assert.Equal(1, bob.NextMessage(AliceAndBob).Seq);

        // The entity forgets the device (here: told that the member holding its connection left), and the push
        // of the next message finds no device. The same entity, same incarnation, then hears the device's refresh.
        Sys.ActorSelection(_presence.Path.ToStringWithoutAddress() + "/*")
            .Tell(new PresenceCommands.MemberDeparted(((ExtendedActorSystem)Sys).Provider.DefaultAddress));
        Send(AliceAndBob, Alice, "m2");

        Assert.Equal("m2", bob.NextMessage(AliceAndBob).ClientMsgId);
    }

    private void CreateChat(ChatId chat, UserId creator, UserId peer)
    {
        _chats.Tell(new CreateChat(chat, ChatKind.Direct, [creator, peer], creator, T0));
        ExpectMsg<ChatReady>(Wait);
    }

    private void Send(ChatId chat, UserId from, string clientMsgId)
    {
        _chats.Tell(new SendMessage(chat, from, Phone, clientMsgId, [1, 2, 3], DateTimeOffset.UtcNow));
        Assert.Equal(clientMsgId, ExpectMsg<MessageAccepted>(Wait).ClientMsgId);
    }

    // The catch-up is the connection's own business: the client is never told to sync (an error frame fails).
    private StandInDevice Connect(UserId user, ConnectionSettings? settings = null) =>
        StandInDevice.Connect(this, _regions, user, Phone, settings);
}
