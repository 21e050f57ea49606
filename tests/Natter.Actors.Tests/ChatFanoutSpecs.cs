using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Natter.Actors.Chats;
using Natter.Actors.Connections;
using Natter.Messages;
using Natter.Messages.Chats;
using Xunit;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatReplies;

namespace Natter.Actors.Tests;

/// <summary>An edge's ChatFanout with a real ChatActor behind a stand-in shard region, and probes as connections.</summary>
public sealed class ChatFanoutSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000001");
    private static readonly UserId Bob = new("15550000002");
    private static readonly UserId Carol = new("15550000003");
    private static readonly UserId Mallory = new("15550000666");
    private static readonly DeviceId Phone = new(1);
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly ChatId _group = ChatId.NewGroup();
    private readonly IActorRef _region;
    private readonly IActorRef _fanout;

    /// <summary>Starts the chat on its first message and again after it stops, as a shard region does.</summary>
    private sealed class OnDemandRegion : ReceiveActor
    {
        public sealed record StopChat;

        private IActorRef? _chat;

        public OnDemandRegion(string chatId, IActorRef presence)
        {
            Receive<StopChat>(_ => _chat?.Tell(ChatActor.Stop.Instance));
            Receive<Terminated>(_ => _chat = null);
            ReceiveAny(message =>
            {
                if (_chat is null) _chat = Context.Watch(Context.ActorOf(ChatActor.PropsFor(chatId, presence, new ChatSettings())));
                _chat.Forward(message);
            });
        }
    }

    public ChatFanoutSpecs() : base(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "fanout-specs")
    {
        _region = Sys.ActorOf(Props.Create(() => new OnDemandRegion(_group.Value, CreateTestProbe("presence").Ref)));
        _fanout = Sys.ActorOf(ChatFanout.PropsFor(_region, TimeSpan.FromMilliseconds(50)));
        _region.Tell(new ChangeGroup(_group, Alice, Phone, GroupAction.Create, [Bob, Carol], "Ops", null, T0));
        ExpectMsg<GroupUpdated>(Wait);
    }

    private TestProbe Connect(UserId user)
    {
        var connection = CreateTestProbe();
        _fanout.Tell(new ChatFanout.Subscribe(_group, user, connection));
        return connection;
    }

    private long Send(UserId from, string clientMsgId)
    {
        _region.Tell(new SendMessage(_group, from, Phone, clientMsgId, [1], T0));
        return ExpectMsg<MessageAccepted>(Wait).Seq;
    }

    private static long EntrySeq(TestProbe connection) => connection.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq;

    [Fact]
    public void Every_connection_of_every_member_gets_each_entry_once_and_a_removed_member_nothing_after_the_removal()
    {
        var bobPhone = Connect(Bob);
        var bobLaptop = Connect(Bob);
        var carol = Connect(Carol);
        var mallory = Connect(Mallory);
        foreach (var c in new[] { bobPhone, bobLaptop, carol }) Assert.Equal(1, c.ExpectMsg<ChatWatch.ChatHead>(Wait).LastSeq);

        var first = Send(Alice, "m1");
        foreach (var c in new[] { bobPhone, bobLaptop, carol }) Assert.Equal(first, EntrySeq(c));

        _region.Tell(new ChangeGroup(_group, Alice, Phone, GroupAction.Remove, [Carol], null, null, T0));
        var removal = ExpectMsg<GroupUpdated>(Wait).Seq;
        Assert.Equal(removal, EntrySeq(carol));
        var second = Send(Alice, "m2");

        foreach (var c in new[] { bobPhone, bobLaptop }) Assert.Equal(new[] { removal, second }, new[] { EntrySeq(c), EntrySeq(c) });
        carol.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        mallory.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void After_the_chat_restarts_the_subscription_is_renewed_and_connections_learn_the_head()
    {
        var bob = Connect(Bob);
        bob.ExpectMsg<ChatWatch.ChatHead>(Wait);

        _region.Tell(new OnDemandRegion.StopChat());
        // The fanout asks again (after its pause), which starts the chat; Bob hears where it stands.
        Assert.Equal(1, bob.ExpectMsg<ChatWatch.ChatHead>(Wait).LastSeq);

        var seq = Send(Alice, "after restart");
        Assert.Equal(seq, EntrySeq(bob));
    }

    [Fact]
    public void A_connection_that_stops_is_forgotten()
    {
        var bob = Connect(Bob);
        var carol = Connect(Carol);
        bob.ExpectMsg<ChatWatch.ChatHead>(Wait);
        carol.ExpectMsg<ChatWatch.ChatHead>(Wait);

        Watch(bob.Ref);
        Sys.Stop(bob.Ref);
        ExpectTerminated(bob.Ref);

        var seq = Send(Alice, "still delivered to carol");
        Assert.Equal(seq, EntrySeq(carol));
    }
}
