using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Natter.Actors.Chats;
using Natter.Actors.Presence;
using Natter.Messages;
using Natter.Messages.Chats;
using Xunit;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatQueries;
using static Natter.Messages.Chats.ChatReplies;

namespace Natter.Actors.Tests;

/// <summary>ChatActor against a real SQLite journal: order, dedupe, membership, recovery.</summary>
public sealed class ChatActorSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000001");
    private static readonly UserId Bob = new("15550000002");
    private static readonly UserId Mallory = new("15550000666");
    private static readonly DeviceId Phone = new(1);
    private static readonly ChatId Chat = ChatId.Direct(Alice, Bob);
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TestProbe _presence;
    // Each member's one device: what the chat pushes to that member arrives here, through presence or straight.
    private readonly Dictionary<UserId, TestProbe> _devices;
    private readonly string _database;

    public ChatActorSpecs() : this(SqliteJournalConfig.NewDatabaseFile()) { }

    private ChatActorSpecs(string db) : base(SqliteJournalConfig.For(db), "chat-specs")
    {
        _database = db;
        _presence = CreateTestProbe("presence");
        _devices = new Dictionary<UserId, TestProbe> { [Alice] = CreateTestProbe("alice"), [Bob] = CreateTestProbe("bob") };
        // Bob's and Alice's presence entities, as far as the chat sees them.
        _presence.SetAutoPilot(new DelegateAutoPilot((_, message) =>
        {
            switch (message)
            {
                case PresenceCommands.DeliverNotice d: _devices[d.UserId].Ref.Tell(d.Notice); break;
                case PresenceCommands.WatchRoutes w: w.Chat.Tell(new PresenceCommands.DeviceRoutes(w.UserId, [_devices[w.UserId].Ref], w.Ask), _presence.Ref); break;
            }
            return AutoPilot.KeepRunning;
        }));
    }

    private IActorRef StartChat(ChatSettings? settings = null, string? name = null) =>
        Sys.ActorOf(ChatActor.PropsFor(Chat.Value, _presence, settings ?? new ChatSettings()), name);

    private void Create(IActorRef chat)
    {
        chat.Tell(new CreateChat(Chat, ChatKind.Direct, [Alice, Bob], Alice, T0));
        ExpectMsg<ChatReady>(TimeSpan.FromSeconds(10));
    }

    private static SendMessage Send(UserId from, string clientMsgId, int n = 0) =>
        new(Chat, from, Phone, clientMsgId, [(byte)n], T0.AddSeconds(n));

    [Fact]
    public void Messages_get_consecutive_seqs_in_the_order_they_arrive_and_are_pushed_to_every_member()
    {
        var chat = StartChat();
        Create(chat);

        for (var i = 1; i <= 20; i++) chat.Tell(Send(i % 2 == 0 ? Alice : Bob, $"m{i}", i));

        var acks = Enumerable.Range(1, 20).Select(_ => ExpectMsg<MessageAccepted>(TimeSpan.FromSeconds(10))).ToList();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), acks.Select(a => a.Seq));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"m{i}"), acks.Select(a => a.ClientMsgId));

        foreach (var member in new[] { Alice, Bob })
            Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i),
                _devices[member].ReceiveN(20, TimeSpan.FromSeconds(10)).Select(n => ((ChatNotices.NewMessage)n).Message.Seq));
    }

    [Fact]
    public void A_repeated_clientMsgId_is_acknowledged_with_the_original_seq_and_stored_once()
    {
        var chat = StartChat();
        Create(chat);
        chat.Tell(Send(Alice, "same", 1));
        var first = ExpectMsg<MessageAccepted>(TimeSpan.FromSeconds(10));
        chat.Tell(Send(Alice, "other", 2));
        ExpectMsg<MessageAccepted>(TimeSpan.FromSeconds(10));

        chat.Tell(Send(Alice, "same", 3));
        var again = ExpectMsg<MessageAccepted>(TimeSpan.FromSeconds(10));

        Assert.Equal(first.Seq, again.Seq);
        Assert.True(again.Duplicate);
        chat.Tell(new GetMessagesAfter(Chat, Bob, Phone, 0, 100));
        var page = ExpectMsg<MessagePage>();
        Assert.Equal(["same", "other"], page.Messages.Select(m => m.ClientMsgId));
    }

    [Fact]
    public void A_resend_arriving_while_the_original_is_being_written_is_acknowledged_only_after_it()
    {
        var chat = StartChat();
        Create(chat);

        chat.Tell(Send(Alice, "twice", 1));
        chat.Tell(Send(Alice, "twice", 1));

        var first = ExpectMsg<MessageAccepted>(TimeSpan.FromSeconds(10));
        var second = ExpectMsg<MessageAccepted>(TimeSpan.FromSeconds(10));
        Assert.False(first.Duplicate);
        Assert.True(second.Duplicate);
        Assert.Equal(first.Seq, second.Seq);
    }

    [Fact]
    public void A_non_member_can_neither_send_nor_read()
    {
        var chat = StartChat();
        Create(chat);

        chat.Tell(Send(Mallory, "evil"));
        var rejected = ExpectMsg<ChatRejected>();
        Assert.Equal(ChatRejections.NotMember, rejected.Code);
        Assert.Equal("evil", rejected.ClientMsgId);

        chat.Tell(new GetMessagesBefore(Chat, Mallory, null, 10));
        Assert.Equal(ChatRejections.NotMember, ExpectMsg<ChatRejected>().Code);
        _presence.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Sending_to_a_chat_that_was_never_created_is_refused()
    {
        var chat = StartChat();
        chat.Tell(Send(Alice, "m1"));
        Assert.Equal(ChatRejections.ChatNotFound, ExpectMsg<ChatRejected>(TimeSpan.FromSeconds(10)).Code);
    }

    [Theory]
    [InlineData(1000)] // no snapshot is taken: everything replays from the journal
    [InlineData(7)]    // snapshots every 7 events: recovery starts from the latest one
    public void State_recovers_from_the_journal_after_a_restart(int snapshotEvery)
    {
        var settings = new ChatSettings { SnapshotEvery = snapshotEvery, RecentCapacity = 8 };
        var chat = StartChat(settings);
        Create(chat);
        for (var i = 1; i <= 30; i++)
        {
            chat.Tell(Send(i % 3 == 0 && i < 25 ? Bob : Alice, $"m{i}", i));
            ExpectMsg<MessageAccepted>(TimeSpan.FromSeconds(10));
        }
        chat.Tell(new AdvanceCursor(Chat, Bob, Phone, CursorKind.Read, 25, T0));
        ExpectMsg<CursorAccepted>();

        Watch(chat);
        chat.Tell(ChatActor.Stop.Instance);
        ExpectTerminated(chat);

        var revived = StartChat(settings);
        revived.Tell(Send(Alice, "m31", 31));
        Assert.Equal(31, ExpectMsg<MessageAccepted>(TimeSpan.FromSeconds(10)).Seq);
        revived.Tell(Send(Alice, "m5", 5)); // deduped across the restart
        var duplicate = ExpectMsg<MessageAccepted>();
        Assert.True(duplicate.Duplicate);
        Assert.Equal(5, duplicate.Seq);

        // Older than the in-memory window (8), so these come from the journal.
        revived.Tell(new GetMessagesAfter(Chat, Bob, Phone, 0, 100));
        var page = ExpectMsg<MessagePage>(TimeSpan.FromSeconds(10));
        Assert.Equal(Enumerable.Range(1, 31).Select(i => (long)i), page.Messages.Select(m => m.Seq));
        Assert.Equal(Enumerable.Range(1, 31).Select(i => $"m{i}"), page.Messages.Select(m => m.ClientMsgId));

        revived.Tell(new GetChatSummary(Chat, Bob));
        var summary = ExpectMsg<ChatSummary>();
        Assert.Equal(31, summary.LastSeq);
        Assert.Equal(25, summary.ReadSeq);
        Assert.Equal(6, summary.Unread);
    }

    [Fact]
    public void Pipelined_sends_stay_acknowledged_in_order_while_snapshots_wait_for_writes_in_flight()
    {
        var chat = StartChat(new ChatSettings { SnapshotEvery = 10 });
        Create(chat);

        // All sent at once: with PersistAsync there is almost never a moment with no write in flight.
        for (var i = 1; i <= 60; i++) chat.Tell(Send(Alice, $"m{i}", i));
        var acks = ReceiveN(60, TimeSpan.FromSeconds(20)).Cast<MessageAccepted>().ToList();
        Assert.Equal(Enumerable.Range(1, 60).Select(i => (long)i), acks.Select(a => a.Seq));

        AwaitAssert(() => Assert.True(LatestSnapshotSequenceNr() >= 50), TimeSpan.FromSeconds(10));
    }

    private long LatestSnapshotSequenceNr()
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_database}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(sequence_number), 0) FROM snapshot WHERE persistence_id = $id";
        command.Parameters.AddWithValue("$id", ChatActor.PersistenceIdOf(Chat));
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public void History_pages_go_backwards_without_gaps_or_overlaps_across_memory_and_journal()
    {
        var chat = StartChat(new ChatSettings { RecentCapacity = 10 });
        Create(chat);
        for (var i = 1; i <= 45; i++) chat.Tell(Send(Alice, $"m{i}", i));
        ReceiveN(45, TimeSpan.FromSeconds(20));

        var seen = new List<long>();
        long? before = null;
        while (true)
        {
            chat.Tell(new GetMessagesBefore(Chat, Bob, before, 7));
            var page = ExpectMsg<MessagePage>(TimeSpan.FromSeconds(10));
            seen.AddRange(page.Messages.Select(m => m.Seq));
            if (!page.HasMore) break;
            before = page.Messages[^1].Seq;
        }
        Assert.Equal(Enumerable.Range(1, 45).Reverse().Select(i => (long)i), seen);
    }

    [Fact]
    public void A_read_receipt_is_persisted_and_pushed_to_members_once()
    {
        var chat = StartChat();
        Create(chat);
        chat.Tell(Send(Alice, "m1", 1));
        ExpectMsg<MessageAccepted>(TimeSpan.FromSeconds(10));
        foreach (var device in _devices.Values) device.ExpectMsg<ChatNotices.NewMessage>();

        chat.Tell(new AdvanceCursor(Chat, Bob, Phone, CursorKind.Read, 1, T0));
        ExpectMsg<CursorAccepted>();
        foreach (var device in _devices.Values)
            Assert.Equal(new ChatNotices.ReceiptUpdated(Chat, Bob, CursorKind.Read, 1, T0), device.ExpectMsg<ChatNotices.ReceiptUpdated>());

        chat.Tell(new AdvanceCursor(Chat, Bob, Phone, CursorKind.Read, 1, T0)); // no progress: no event, no push
        ExpectMsg<CursorAccepted>();
        foreach (var device in _devices.Values) device.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        chat.Tell(new AdvanceCursor(Chat, Bob, Phone, CursorKind.Read, 2, T0));
        Assert.Equal(ChatRejections.InvalidCursor, ExpectMsg<ChatRejected>().Code);
    }
}
