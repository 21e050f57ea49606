using Akka;
using Akka.Actor;
using Akka.Persistence;
using Akka.TestKit.Xunit2;
using Natter.Actors.Chats;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Xunit;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatEvents;
using static Natter.Messages.Chats.ChatQueries;
using static Natter.Messages.Chats.ChatReplies;

namespace Natter.Actors.Tests;

/// <summary>
/// A chat's log can miss a seq: a ChatActor applies an event before its write is durable, so when the journal rejects
/// one write of several in flight, the later ones are written with the seqs after it, and the actor restarts from a
/// journal without it. Readers must take the log as it is: pages skip the missing seq, a connection pushes what
/// follows it, and nothing asks for it forever. The journal is written directly here (real SQLite), as such a
/// rejection would leave it: seqs 1, 2 and 4.
/// </summary>
public sealed class LogHoleSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000001");
    private static readonly UserId Bob = new("15550000002");
    private static readonly DeviceId Phone = new(1);
    private static readonly ChatId AliceAndBob = ChatId.Direct(Alice, Bob);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public LogHoleSpecs() : base(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "log-hole-specs")
    {
        var at = DateTimeOffset.UtcNow;
        var writer = Sys.ActorOf(Props.Create(() => new JournalWriter(ChatActor.PersistenceIdOf(AliceAndBob))));
        writer.Tell(new object[]
        {
            new ChatCreated(AliceAndBob, ChatKind.Direct, [Alice, Bob], Alice, at),
            Appended(1, "m1", at), Appended(2, "m2", at), Appended(4, "m4", at),
        });
        ExpectMsg<Done>(Wait);
        Watch(writer);
        Sys.Stop(writer);
        ExpectTerminated(writer, Wait);
    }

    [Theory]
    [InlineData(512)] // pages from the chat's recent messages in memory
    [InlineData(1)] // pages read from the journal
    public void Pages_skip_the_missing_seq_and_end_where_the_log_ends(int recentCapacity)
    {
        var chat = Sys.ActorOf(ChatActor.PropsFor(AliceAndBob.Value, CreateTestProbe().Ref, new ChatSettings { RecentCapacity = recentCapacity }));

        chat.Tell(new GetMessagesAfter(AliceAndBob, Bob, Phone, 1, Limit: 10));
        var rest = ExpectMsg<MessagePage>(Wait);
        Assert.Equal([2L, 4L], rest.Messages.Select(m => m.Seq));
        Assert.False(rest.HasMore);
        Assert.Equal(4, rest.LastSeq);

        // A full page that stops short of the end has more; the page after the missing seq has none.
        chat.Tell(new GetMessagesAfter(AliceAndBob, Bob, Phone, 0, Limit: 2));
        var first = ExpectMsg<MessagePage>(Wait);
        Assert.Equal([1L, 2L], first.Messages.Select(m => m.Seq));
        Assert.True(first.HasMore);
        chat.Tell(new GetMessagesAfter(AliceAndBob, Bob, Phone, 2, Limit: 2));
        var last = ExpectMsg<MessagePage>(Wait);
        Assert.Equal([4L], last.Messages.Select(m => m.Seq));
        Assert.False(last.HasMore);
        // Two seqs' room past the missing one reach the end: no more, though seq arithmetic (4 - 1 > 2) would say so.
        chat.Tell(new GetMessagesAfter(AliceAndBob, Bob, Phone, 1, Limit: 2));
        var across = ExpectMsg<MessagePage>(Wait);
        Assert.Equal([2L, 4L], across.Messages.Select(m => m.Seq));
        Assert.False(across.HasMore);

        chat.Tell(new GetMessagesBefore(AliceAndBob, Bob, null, Limit: 10));
        Assert.Equal([4L, 2L, 1L], ExpectMsg<MessagePage>(Wait).Messages.Select(m => m.Seq));
        // History pages hold as many messages as asked for across the missing seq, and page on from their smallest.
        chat.Tell(new GetMessagesBefore(AliceAndBob, Bob, null, Limit: 2));
        var newest = ExpectMsg<MessagePage>(Wait);
        Assert.Equal([4L, 2L], newest.Messages.Select(m => m.Seq));
        Assert.True(newest.HasMore);
        chat.Tell(new GetMessagesBefore(AliceAndBob, Bob, 2, Limit: 2));
        var oldest = ExpectMsg<MessagePage>(Wait);
        Assert.Equal([1L], oldest.Messages.Select(m => m.Seq));
        Assert.False(oldest.HasMore);
        chat.Tell(new GetMessagesBefore(AliceAndBob, Bob, 4, Limit: 1));
        var belowMissing = ExpectMsg<MessagePage>(Wait);
        Assert.Equal([2L], belowMissing.Messages.Select(m => m.Seq));
        Assert.True(belowMissing.HasMore);

        // The chat goes on after the missing seq, and its summary still knows when the last message came.
        chat.Tell(new SendMessage(AliceAndBob, Alice, Phone, "m5", [5], DateTimeOffset.UtcNow));
        Assert.Equal(5, ExpectMsg<MessageAccepted>(Wait).Seq);
        chat.Tell(new GetMessagesAfter(AliceAndBob, Bob, Phone, 4, Limit: 10));
        Assert.Equal([5L], ExpectMsg<MessagePage>(Wait).Messages.Select(m => m.Seq));
        chat.Tell(new SendMessage(AliceAndBob, Alice, Phone, "m4", [4], DateTimeOffset.UtcNow));
        Assert.Equal((4L, true), ExpectMsg<MessageAccepted>(Wait) is var again ? (again.Seq, again.Duplicate) : default);
        chat.Tell(new GetChatSummary(AliceAndBob, Bob));
        Assert.NotNull(ExpectMsg<ChatSummary>(Wait).LastMessageAt);
    }

    [Fact]
    public void A_connection_pushes_what_follows_the_missing_seq_in_a_sync_and_live()
    {
        var regions = StandInRegions.Start(Sys);
        regions.Users.Tell(new ChatListUsers.List(Bob, [AliceAndBob]));
        var bob = StandInDevice.Connect(this, regions, Bob, Phone);

        bob.Connection.Tell(new Connections.ConnectionMessages.Inbound(new SyncFrame { Cursors = new() { [AliceAndBob.Value] = 1 } }));
        Assert.Equal(2, bob.NextMessage(AliceAndBob).Seq);
        Assert.Equal(4, bob.NextMessage(AliceAndBob).Seq);
        Assert.Equal(2, bob.Next<SyncedFrame>().Messages);

        // A live message after it is pushed at once: the stream is past the missing seq, not waiting for it.
        regions.Chats.Tell(new SendMessage(AliceAndBob, Alice, Phone, "m5", [5], DateTimeOffset.UtcNow));
        ExpectMsg<MessageAccepted>(Wait);
        Assert.Equal(5, bob.NextMessage(AliceAndBob).Seq);
    }

    [Fact]
    public void A_live_message_past_the_missing_seq_is_pushed_after_a_fetch_that_does_not_repeat()
    {
        var regions = StandInRegions.Start(Sys);
        var bob = StandInDevice.Connect(this, regions, Bob, Phone);
        // The stream starts at the live message of seq 2; the next live one (5) is above a gap that holds 4 and a missing 3.
        bob.Connection.Tell(new ChatNotices.NewMessage(AliceAndBob, new ChatMessage(AliceAndBob, 2, Alice, Phone, "m2", [2], DateTimeOffset.UtcNow)));
        Assert.Equal(2, bob.NextMessage(AliceAndBob).Seq);

        regions.Chats.Tell(new SendMessage(AliceAndBob, Alice, Phone, "m5", [5], DateTimeOffset.UtcNow));
        ExpectMsg<MessageAccepted>(Wait);
        Assert.Equal(4, bob.NextMessage(AliceAndBob).Seq);
        Assert.Equal(5, bob.NextMessage(AliceAndBob).Seq);
        regions.Chats.Tell(new SendMessage(AliceAndBob, Alice, Phone, "m6", [6], DateTimeOffset.UtcNow));
        ExpectMsg<MessageAccepted>(Wait);
        Assert.Equal(6, bob.NextMessage(AliceAndBob).Seq);
    }

    private static MessageAppended Appended(long seq, string clientMsgId, DateTimeOffset at) =>
        new(AliceAndBob, seq, Alice, Phone, clientMsgId, [(byte)seq], at);

    /// <summary>Writes events under a persistence id, as the chat would have, and answers Done.</summary>
    private sealed class JournalWriter : ReceivePersistentActor
    {
        public override string PersistenceId { get; }

        public JournalWriter(string persistenceId)
        {
            PersistenceId = persistenceId;
            Command<object[]>(events =>
            {
                var replyTo = Sender;
                PersistAll(events, e => { if (ReferenceEquals(e, events[^1])) replyTo.Tell(Done.Instance); });
            });
        }
    }
}
