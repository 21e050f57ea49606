using Akka.Actor;
using Akka.TestKit.Xunit2;
using Natter.Actors.Connections;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Xunit;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatReplies;

namespace Natter.Actors.Tests;

/// <summary>
/// The protocol's promise for one connection (docs/protocol.md §6.3): a chat's messages are pushed in seq order with no
/// gaps. A live message that arrives above the next expected seq (an earlier push went another way or was lost) makes
/// the connection fetch the missing ones from the chat and push them first. Real ChatActors on SQLite; the connection's
/// presence region is a probe, so the only live messages it gets are the ones a spec hands it.
/// </summary>
public sealed class LiveGapSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000001");
    private static readonly UserId Bob = new("15550000002");
    private static readonly UserId Carol = new("15550000003");
    private static readonly DeviceId Phone = new(1);
    private static readonly DeviceId Laptop = new(2);
    private static readonly ChatId AliceAndBob = ChatId.Direct(Alice, Bob);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly IActorRef _chats;
    private readonly IActorRef _users;

    public LiveGapSpecs() : base(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "live-gap-specs")
    {
        (_chats, _users, _) = StandInRegions.Start(Sys);
        _chats.Tell(new CreateChat(AliceAndBob, ChatKind.Direct, [Alice, Bob], Alice, DateTimeOffset.UtcNow));
        ExpectMsg<ChatReady>(Wait);
    }

    [Fact]
    public void A_live_message_above_the_next_seq_is_pushed_after_the_missing_ones_fetched_from_the_chat()
    {
        var (connection, outbound) = ConnectBob();
        var m1 = Send("m1");
        connection.Tell(new ChatNotices.NewMessage(AliceAndBob, m1));
        Assert.Equal(1, outbound.Next<MessageFrame>(Wait).Seq);

        Send("m2"); // its push never reaches the connection
        var m3 = Send("m3");
        connection.Tell(new ChatNotices.NewMessage(AliceAndBob, m3));

        var pushed = new[] { outbound.Next<MessageFrame>(Wait), outbound.Next<MessageFrame>(Wait) };
        Assert.Equal([2L, 3L], pushed.Select(m => m.Seq));
        Assert.Equal(["m2", "m3"], pushed.Select(m => m.ClientMsgId));

        // The lost push turning up late, and the live one again: both already pushed, so neither goes out twice.
        connection.Tell(new ChatNotices.NewMessage(AliceAndBob, m3));
        var m4 = Send("m4");
        connection.Tell(new ChatNotices.NewMessage(AliceAndBob, m4));
        Assert.Equal(4, outbound.Next<MessageFrame>(Wait).Seq);
    }

    [Fact]
    public void The_connection_that_acked_a_send_gets_no_live_copy_its_other_device_does_and_a_sync_sends_it()
    {
        var (phone, phoneFrames) = Connect(Alice, Phone);
        var (laptop, laptopFrames) = Connect(Alice, Laptop);
        phone.Tell(new ConnectionMessages.Inbound(new SendFrame { ChatId = AliceAndBob.Value, ClientMsgId = "m1", Body = [1] }));
        var ack = phoneFrames.Next<AckFrame>(Wait);
        var m1 = new ChatMessage(AliceAndBob, ack.Seq, Alice, Phone, "m1", [1], ack.Ts);
        phone.Tell(new ChatNotices.NewMessage(AliceAndBob, m1));
        laptop.Tell(new ChatNotices.NewMessage(AliceAndBob, m1));
        Assert.Equal("m1", laptopFrames.Next<MessageFrame>(Wait).ClientMsgId);

        // The phone's stream moved past its own message: Bob's reply is the next frame, with no gap fetch pushing m1.
        var b2 = Send("b2", Bob);
        phone.Tell(new ChatNotices.NewMessage(AliceAndBob, b2));
        var next = phoneFrames.Next<MessageFrame>(Wait);
        Assert.Equal((2L, "b2"), (next.Seq, next.ClientMsgId));

        // A send of the same device that this connection did not ack (over REST) does come to it.
        var m3 = Send("m3");
        phone.Tell(new ChatNotices.NewMessage(AliceAndBob, m3));
        var m3Frame = phoneFrames.Next<MessageFrame>(Wait);
        Assert.Equal((3L, "m3"), (m3Frame.Seq, m3Frame.ClientMsgId));

        // A sync from before them sends them all: the device may have lost its own.
        _users.Tell(new ChatListUsers.List(Alice, [AliceAndBob]));
        phone.Tell(new ConnectionMessages.Inbound(new SyncFrame { Cursors = new() { [AliceAndBob.Value] = 0 } }));
        Assert.Equal([1L, 2L, 3L], new[] { phoneFrames.Next<MessageFrame>(Wait).Seq, phoneFrames.Next<MessageFrame>(Wait).Seq, phoneFrames.Next<MessageFrame>(Wait).Seq });
    }

    [Fact]
    public void A_sync_below_a_fetch_in_flight_gets_what_lies_between_when_the_fetch_answers()
    {
        var messages = Enumerable.Range(1, 25).Select(i => Send($"m{i}")).ToList();
        // A second chat of Bob's, empty: the sync's fetch of it shows when the sync has reached the connection.
        var bobAndCarol = ChatId.Direct(Bob, Carol);
        _chats.Tell(new CreateChat(bobAndCarol, ChatKind.Direct, [Bob, Carol], Bob, DateTimeOffset.UtcNow));
        ExpectMsg<ChatReady>(Wait);
        var (connection, outbound) = ConnectBob();
        connection.Tell(new ChatNotices.NewMessage(AliceAndBob, messages[19]));
        Assert.Equal(20, outbound.Next<MessageFrame>(Wait).Seq);

        // A gap (25 above 20) starts a fetch after 20, which waits; meanwhile the client syncs from 10 (it has 1..10).
        _chats.Tell(new ChatsRegion.HoldFetches());
        connection.Tell(new ChatNotices.NewMessage(AliceAndBob, messages[24]));
        _users.Tell(new ChatListUsers.List(Bob, [AliceAndBob, bobAndCarol]));
        connection.Tell(new ConnectionMessages.Inbound(new SyncFrame { Cursors = new() { [AliceAndBob.Value] = 10 } }));
        AwaitAssert(() =>
        {
            _chats.Tell(new ChatsRegion.CountHeldFetches());
            Assert.Equal(2, ExpectMsg<int>(Wait));
        }, Wait, TimeSpan.FromMilliseconds(50));
        _chats.Tell(new ChatsRegion.ReleaseFetches());

        var pushed = Enumerable.Range(0, 15).Select(_ => outbound.Next<MessageFrame>(Wait).Seq).ToList();
        Assert.Equal(Enumerable.Range(11, 15).Select(i => (long)i), pushed);
        var synced = outbound.Next<SyncedFrame>(Wait);
        Assert.Equal(25, Assert.Single(synced.Summary!).LastSeq);
    }

    private ChatMessage Send(string clientMsgId, UserId? sender = null)
    {
        var at = DateTimeOffset.UtcNow;
        _chats.Tell(new SendMessage(AliceAndBob, sender ?? Alice, Phone, clientMsgId, [1, 2, 3], at));
        var accepted = ExpectMsg<MessageAccepted>(Wait);
        return new ChatMessage(AliceAndBob, accepted.Seq, sender ?? Alice, Phone, clientMsgId, [1, 2, 3], accepted.At);
    }

    private (IActorRef Connection, RecordingOutbound Outbound) ConnectBob() => Connect(Bob, Phone);

    private (IActorRef Connection, RecordingOutbound Outbound) Connect(UserId user, DeviceId device)
    {
        var outbound = new RecordingOutbound();
        var gateway = new ChatGateway(_chats, _users, Wait);
        var connection = Sys.ActorOf(ConnectionActor.PropsFor(user, device, ConnectionActor.NewConnectionId(),
            DateTimeOffset.UtcNow.AddHours(1), outbound, gateway, CreateTestProbe().Ref, CreateTestProbe().Ref, new ConnectionSettings()));
        return (connection, outbound);
    }
}
