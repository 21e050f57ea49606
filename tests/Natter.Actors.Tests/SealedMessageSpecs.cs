using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Natter.Actors.Chats;
using Natter.Messages;
using Natter.Messages.Chats;
using Xunit;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatQueries;
using static Natter.Messages.Chats.ChatReplies;

namespace Natter.Actors.Tests;

/// <summary>
/// A sealed message's envelopes are stored with it once, survive recovery, and a page for one device carries
/// that device's envelope only (an empty list still marks the body sealed).
/// </summary>
public sealed class SealedMessageSpecs() : TestKit(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "sealed-specs")
{
    private static readonly UserId Alice = new("15550000001");
    private static readonly UserId Bob = new("15550000002");
    private static readonly DeviceId Phone = new(1);
    private static readonly DeviceId Laptop = new(2);
    private static readonly ChatId Chat = ChatId.Direct(Alice, Bob);
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private IActorRef StartChat() => Sys.ActorOf(ChatActor.PropsFor(Chat.Value, CreateTestProbe().Ref, new ChatSettings()));

    [Fact]
    public void A_page_for_one_device_carries_its_envelope_only_also_after_recovery()
    {
        var chat = StartChat();
        chat.Tell(new CreateChat(Chat, ChatKind.Direct, [Alice, Bob], Alice, T0));
        ExpectMsg<ChatReady>(Wait);
        chat.Tell(new SendMessage(Chat, Alice, Phone, "sealed", [9, 9], T0, Envelopes:
        [
            new DeviceEnvelope(Alice, Laptop, [1]),
            new DeviceEnvelope(Bob, Phone, [2]),
            new DeviceEnvelope(Bob, Laptop, [3]),
        ]));
        ExpectMsg<MessageAccepted>(Wait);
        chat.Tell(new SendMessage(Chat, Bob, Phone, "plain", [7], T0));
        ExpectMsg<MessageAccepted>(Wait);

        Watch(chat);
        Sys.Stop(chat);
        ExpectTerminated(chat, Wait);
        chat = StartChat();

        chat.Tell(new GetMessagesAfter(Chat, Bob, Laptop, 0, 10));
        var forBobsLaptop = ExpectMsg<MessagePage>(Wait).Messages;
        Assert.Equal([3], forBobsLaptop[0].EnvelopeFor(Bob, Laptop));
        Assert.Single(forBobsLaptop[0].Envelopes!);
        Assert.Null(forBobsLaptop[1].Envelopes);

        chat.Tell(new GetMessagesBefore(Chat, Alice, null, 10, Phone));
        var forAlicesPhone = ExpectMsg<MessagePage>(Wait).Messages.Single(m => m.ClientMsgId == "sealed");
        Assert.Empty(forAlicesPhone.Envelopes!); // sealed, but nothing for the sending device itself

        chat.Tell(new GetMessagesBefore(Chat, Alice, null, 10));
        Assert.Equal(3, ExpectMsg<MessagePage>(Wait).Messages.Single(m => m.ClientMsgId == "sealed").Envelopes!.Count);
    }

    [Fact]
    public void The_recent_window_is_bounded_by_bytes_as_well_as_by_count()
    {
        var recent = new RecentMessages(capacity: 100, maxBytes: 10_000);
        var envelopes = Enumerable.Range(1, 40).Select(i => new DeviceEnvelope(Bob, new DeviceId(i), new byte[89])).ToList();
        for (var seq = 1; seq <= 10; seq++)
            recent.Add(new ChatMessage(Chat, seq, Alice, Phone, $"m{seq}", new byte[100], T0, Envelopes: envelopes));

        // Each message is 100 + 40 * (89 + 16) = 4,300 bytes: two fit in 10,000.
        Assert.Equal(2, recent.Count);
        Assert.Equal(9, recent.OldestSeq);
        Assert.False(recent.CoversAfter(7));
        Assert.Equal([9L, 10L], recent.After(0, 10, 10).Select(m => m.Seq));

        // One message over the budget on its own is still kept: the newest is always there.
        recent.Add(new ChatMessage(Chat, 11, Alice, Phone, "big", new byte[20_000], T0));
        Assert.Equal((1, 11L), (recent.Count, recent.OldestSeq));
    }
}
