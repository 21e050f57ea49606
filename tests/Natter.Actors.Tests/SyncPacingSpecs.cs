using Akka.Actor;
using Akka.TestKit.Xunit2;
using Natter.Actors.Chats;
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
/// A sync of many chats, each with more unread messages than a page, by a client that reads slowly: the pages are
/// paced to what its outbound queue holds, so it is never disconnected as too slow and gets everything in order.
/// Real ChatActors on SQLite and a real ConnectionActor; the regions and the socket are stand-ins.
/// </summary>
public sealed class SyncPacingSpecs : TestKit
{
    private static readonly UserId Bob = new("15550000002");
    private static readonly DeviceId Phone = new(1);
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly IActorRef _chats;
    private readonly IActorRef _users;
    private readonly IActorRef _presence;

    public SyncPacingSpecs() : base(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "sync-pacing-specs")
    {
        (_chats, _users, _presence) = StandInRegions.Start(Sys);
    }

    [Fact]
    public void A_sync_of_more_unread_pages_than_the_queue_holds_is_paced_to_a_slow_reader_and_delivers_everything_in_order()
    {
        const int chatCount = 6, perChat = 6, capacity = 16; // pages of 4: six chats' first pages alone would be 24 frames
        var chats = Enumerable.Range(1, chatCount).Select(i => StartChatWith(new UserId($"1555000010{i}"), perChat)).ToList();
        _users.Tell(new ChatListUsers.List(Bob, chats));

        var outbound = new SlowOutbound(capacity);
        var connection = Connect(outbound, _presence);
        connection.Tell(new ConnectionMessages.Inbound(new SyncFrame()));

        var received = new List<ServerFrame>();
        ReadSlowly(outbound, received, () => received.OfType<SyncedFrame>().Any());

        Assert.Null(outbound.ClosedWith);
        Assert.DoesNotContain(received, f => f is ErrorFrame);
        var synced = Assert.Single(received.OfType<SyncedFrame>());
        Assert.Equal(chatCount * perChat, synced.Messages);
        AssertEveryChatInOrder(received, chats, perChat);
    }

    [Fact]
    public void Chat_heads_of_more_unread_pages_than_the_queue_holds_are_paced_to_a_slow_reader_like_a_sync()
    {
        const int chatCount = 6, perChat = 6, capacity = 16;
        var peers = Enumerable.Range(1, chatCount).Select(i => new UserId($"1555000020{i}")).ToList();
        var chats = peers.Select(peer => StartChatWith(peer, 0)).ToList();
        _users.Tell(new ChatListUsers.List(Bob, chats));

        // Registered with a probe, not with presence: the messages reach this connection only as chat heads
        // (as a group's do, through the fanout), each asking it to fetch what it has not seen.
        var outbound = new SlowOutbound(capacity);
        var connection = Connect(outbound, CreateTestProbe().Ref);
        connection.Tell(new ConnectionMessages.Inbound(new SyncFrame()));
        var received = new List<ServerFrame>();
        AwaitCondition(() =>
        {
            received.AddRange(outbound.Read(capacity));
            return received.OfType<SyncedFrame>().Any();
        }, Wait);

        foreach (var (chat, peer) in chats.Zip(peers)) Send(chat, peer, perChat);
        foreach (var chat in chats) connection.Tell(new ChatWatch.ChatHead(chat, perChat));

        ReadSlowly(outbound, received, () => received.OfType<MessageFrame>().Count() >= chatCount * perChat);

        Assert.Null(outbound.ClosedWith);
        Assert.DoesNotContain(received, f => f is ErrorFrame);
        AssertEveryChatInOrder(received, chats, perChat);
    }

    private IActorRef Connect(SlowOutbound outbound, IActorRef presence) =>
        Sys.ActorOf(ConnectionActor.PropsFor(Bob, Phone, "c1", DateTimeOffset.UtcNow.AddHours(1), outbound,
            new ChatGateway(_chats, _users, Wait), presence, CreateTestProbe().Ref, new ConnectionSettings()));

    /// <summary>
    /// A client that reads 3 frames every 50 ms, slower than the server could push: the sleep is its reading pace,
    /// not a wait for a condition. Stops when <paramref name="done"/>, when the connection is closed, or after 30 s.
    /// </summary>
    private static void ReadSlowly(SlowOutbound outbound, List<ServerFrame> received, Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!done() && DateTime.UtcNow < deadline && outbound.ClosedWith is null)
        {
            Thread.Sleep(50);
            received.AddRange(outbound.Read(3));
        }
    }

    private static void AssertEveryChatInOrder(List<ServerFrame> received, IEnumerable<ChatId> chats, int perChat)
    {
        foreach (var chat in chats)
            Assert.Equal(Enumerable.Range(1, perChat).Select(i => (long)i),
                received.OfType<MessageFrame>().Where(m => m.ChatId == chat.Value).Select(m => m.Seq));
    }

    private ChatId StartChatWith(UserId peer, int messages)
    {
        var chat = ChatId.Direct(peer, Bob);
        _chats.Tell(new CreateChat(chat, ChatKind.Direct, [peer, Bob], peer, T0));
        ExpectMsg<ChatReady>(Wait);
        Send(chat, peer, messages);
        return chat;
    }

    private void Send(ChatId chat, UserId from, int messages)
    {
        for (var i = 1; i <= messages; i++)
        {
            _chats.Tell(new SendMessage(chat, from, Phone, $"m{i}", [(byte)i], T0.AddSeconds(i)));
            ExpectMsg<MessageAccepted>(Wait);
        }
    }
}
