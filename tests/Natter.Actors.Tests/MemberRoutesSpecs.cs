using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Natter.Actors.Chats;
using Natter.Actors.Connections;
using Natter.Actors.Presence;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Xunit;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatReplies;

namespace Natter.Actors.Tests;

/// <summary>
/// A direct chat pushes to its members' connections once their PresenceActors have told it where they are, and
/// stays right as devices come and go and as those entities stop (<see cref="MemberRoutes"/>). Real ChatActors on
/// SQLite, real PresenceActors and ConnectionActors where the whole path is the point; probes where the exact
/// exchange between a chat and an entity is.
/// </summary>
public sealed class MemberRoutesSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000001");
    private static readonly UserId Bob = new("15550000002");
    private static readonly DeviceId Phone = new(1);
    private static readonly DeviceId Laptop = new(2);
    private static readonly ChatId AliceAndBob = ChatId.Direct(Alice, Bob);
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public MemberRoutesSpecs() : base(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "member-routes-specs") { }

    [Fact]
    public void After_its_first_push_a_direct_chat_reaches_a_members_connection_without_the_members_presence_entity()
    {
        var (regions, bob) = BobsPhoneWithTheFirstMessage();
        var (chats, _, presence) = regions;

        // From here the region drops every push to Bob: only the chat's own routes can bring the next message.
        presence.Tell(new CrashablePresenceRegion.Lose(Bob));
        Send(chats, Alice, "m2");

        Assert.Equal("m2", bob.NextMessage(AliceAndBob).ClientMsgId);
    }

    [Fact]
    public void When_a_members_presence_entity_stops_a_device_registered_with_the_one_that_follows_gets_what_it_missed()
    {
        var (regions, phone) = BobsPhoneWithTheFirstMessage();
        var (chats, users, presence) = regions;

        presence.Tell(new CrashablePresenceRegion.Crash(Bob));
        presence.Tell(new CrashablePresenceRegion.Recover(Bob));
        // Known only to the entity that followed: the chat's routes do not name it until that entity answers.
        var laptop = StandInDevice.Connect(this, regions, Bob, Laptop);
        users.Tell(new ChatListUsers.List(Bob, [AliceAndBob]));
        laptop.Connection.Tell(new ConnectionMessages.Inbound(new SyncFrame()));
        laptop.Next<SyncedFrame>();
        Send(chats, Alice, "m2");

        Assert.Equal("m2", phone.NextMessage(AliceAndBob).ClientMsgId);
        Assert.Equal("m2", laptop.NextMessage(AliceAndBob).ClientMsgId);
        Send(chats, Alice, "m3");
        Assert.Equal("m3", laptop.NextMessage(AliceAndBob).ClientMsgId);
    }

    [Fact]
    public void A_connection_that_pushes_by_older_routes_missed_fetches_them_when_the_chat_tells_it_the_head()
    {
        var presence = CreateTestProbe();
        var chat = StartChat(presence);
        var (bobEntity, phone) = (CreateTestProbe(), CreateTestProbe());
        var laptop = new RecordingOutbound();
        var connection = Sys.ActorOf(ConnectionActor.PropsFor(Bob, Laptop, "laptop", DateTimeOffset.UtcNow.AddHours(1), laptop,
            new ChatGateway(chat, CreateTestProbe().Ref, Wait), CreateTestProbe().Ref, CreateTestProbe().Ref, new ConnectionSettings()));
        Send(chat, Alice, "m1");
        var (m1, ask) = FirstPushAndAsk(presence, Bob);
        connection.Tell(m1.Notice); // as Bob's entity delivered it: the laptop's stream of the chat starts
        Assert.Equal(1, laptop.Next<MessageFrame>(Wait).Seq);

        bobEntity.Send(chat, new PresenceCommands.DeviceRoutes(Bob, [phone.Ref], ask.Ask));
        Send(chat, Alice, "m2"); // the laptop registered meanwhile, but the routes do not say so yet
        Send(chat, Alice, "m3");
        bobEntity.Send(chat, new PresenceCommands.DeviceRoutes(Bob, [phone.Ref, connection], ask.Ask));

        Assert.Equal(["m2", "m3"], new[] { laptop.Next<MessageFrame>(Wait).ClientMsgId, laptop.Next<MessageFrame>(Wait).ClientMsgId });
        Send(chat, Alice, "m4");
        Assert.Equal("m4", laptop.Next<MessageFrame>(Wait).ClientMsgId);
    }

    [Fact]
    public void The_first_push_to_a_member_goes_through_presence_and_asks_for_the_routes_and_the_next_ones_wait_for_the_answer_in_order()
    {
        var presence = CreateTestProbe();
        var chat = StartChat(presence);
        Send(chat, Alice, "m1");
        var asked = presence.ReceiveN(4, Wait);
        foreach (var member in new[] { Alice, Bob })
        {
            var toMember = asked.Where(m => m is PresenceCommands.DeliverNotice d ? d.UserId == member : ((PresenceCommands.WatchRoutes)m).UserId == member).ToList();
            Assert.Equal(1, Assert.IsType<ChatNotices.NewMessage>(Assert.IsType<PresenceCommands.DeliverNotice>(toMember[0]).Notice).Message.Seq);
            Assert.Equal(new PresenceCommands.WatchRoutes(member, chat, 1), toMember[1]);
        }
        Send(chat, Alice, "m2");
        Send(chat, Alice, "m3");
        presence.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        var (bobEntity, phone) = (CreateTestProbe(), CreateTestProbe());
        bobEntity.Send(chat, new PresenceCommands.DeviceRoutes(Bob, [phone.Ref], 1));
        Assert.Equal([2L, 3L], new[] { phone.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq, phone.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq });
        phone.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // the first answer: every push before it went through presence
        presence.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Pushes_whose_answer_does_not_come_in_time_go_through_presence_and_only_the_answer_to_the_ask_behind_them_counts()
    {
        var presence = CreateTestProbe();
        var chat = StartChat(presence, new ChatSettings { RoutesAnswerWithin = TimeSpan.FromSeconds(3) });
        Send(chat, Alice, "m1");
        presence.ReceiveN(4, Wait);
        Send(chat, Alice, "m2");

        var late = presence.ReceiveN(4, Wait).Where(m => m is PresenceCommands.DeliverNotice { UserId: var u } && u == Bob
            || m is PresenceCommands.WatchRoutes { UserId: var w } && w == Bob).ToList();
        Assert.Equal(2, ((ChatNotices.NewMessage)((PresenceCommands.DeliverNotice)late[0]).Notice).Message.Seq);
        Assert.Equal(new PresenceCommands.WatchRoutes(Bob, chat, 2), late[1]);

        // The answer to the first ask comes late: m2 may still be on its way through presence, so it switches nothing.
        var (bobEntity, phone) = (CreateTestProbe(), CreateTestProbe());
        bobEntity.Send(chat, new PresenceCommands.DeviceRoutes(Bob, [phone.Ref], 1));
        Send(chat, Alice, "m3");
        phone.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        bobEntity.Send(chat, new PresenceCommands.DeviceRoutes(Bob, [phone.Ref], 2));
        Assert.Equal(3, phone.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq);
    }

    [Fact]
    public void More_pushes_than_may_wait_go_through_presence_in_order_with_the_ask_behind_them()
    {
        var presence = CreateTestProbe();
        var chat = StartChat(presence);
        Send(chat, Alice, "m1");
        presence.ReceiveN(4, Wait);
        for (var i = 0; i <= MemberRoutes.MaxWaiting; i++) chat.Tell(new SignalTyping(AliceAndBob, Alice, Phone, i % 2 == 0));

        var toBob = presence.ReceiveN(2 * (MemberRoutes.MaxWaiting + 2), Wait)
            .Where(m => m is PresenceCommands.DeliverNotice { UserId: var u } && u == Bob || m is PresenceCommands.WatchRoutes { UserId: var w } && w == Bob)
            .ToList();
        Assert.Equal(MemberRoutes.MaxWaiting + 2, toBob.Count);
        var typing = toBob.Take(MemberRoutes.MaxWaiting + 1).Select(m => ((ChatNotices.Typing)((PresenceCommands.DeliverNotice)m).Notice).IsTyping);
        Assert.Equal(Enumerable.Range(0, MemberRoutes.MaxWaiting + 1).Select(i => i % 2 == 0), typing);
        Assert.Equal(new PresenceCommands.WatchRoutes(Bob, chat, 2), toBob[^1]);
    }

    [Fact]
    public void Pushes_waiting_for_an_answer_when_the_chat_stops_go_through_presence()
    {
        var presence = CreateTestProbe();
        var chat = StartChat(presence);
        Send(chat, Alice, "m1");
        presence.ReceiveN(4, Wait);
        Send(chat, Alice, "m2");

        Sys.Stop(chat);

        var sent = presence.ReceiveN(2, Wait).Cast<PresenceCommands.DeliverNotice>().ToList();
        Assert.Equal([Alice, Bob], sent.Select(d => d.UserId).OrderBy(u => u.Value));
        Assert.All(sent, d => Assert.Equal(2, ((ChatNotices.NewMessage)d.Notice).Message.Seq));
    }

    [Fact]
    public void Once_an_entity_answers_pushes_go_to_the_connections_and_a_connection_a_change_adds_is_told_the_head()
    {
        var (presence, chat, bobEntity, phone) = ChatWhoseRoutesToBobsPhoneAreIn();
        presence.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // Alice's entity has not answered: hers wait

        // The laptop registered after the routes were told: pushes meanwhile went by the old routes.
        var laptop = CreateTestProbe();
        bobEntity.Send(chat, new PresenceCommands.DeviceRoutes(Bob, [phone.Ref, laptop.Ref], 1));
        Assert.Equal(new ChatWatch.ChatHead(AliceAndBob, 2), laptop.ExpectMsg<ChatWatch.ChatHead>(Wait));
        phone.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // the phone was there already

        Send(chat, Alice, "m3");
        Assert.Equal(3, phone.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq);
        Assert.Equal(3, laptop.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq);
    }

    [Fact]
    public void When_the_entity_that_answered_stops_pushes_go_on_to_the_connections_and_ask_the_one_that_follows_whose_new_connections_are_told_the_head()
    {
        var (presence, chat, bobEntity, phone) = ChatWhoseRoutesToBobsPhoneAreIn();

        Sys.Stop(bobEntity.Ref);
        // Once the chat has the entity's Terminated, its next push asks again; every push still reaches the phone.
        AwaitAssert(() =>
        {
            Send(chat, Alice, $"after-{Guid.NewGuid():N}");
            phone.ExpectMsg<ChatNotices.NewMessage>(Wait);
            var sent = presence.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m);
            Assert.Contains(new PresenceCommands.WatchRoutes(Bob, chat, 2), sent);
            Assert.DoesNotContain(sent, m => m is PresenceCommands.DeliverNotice { UserId: var u } && u == Bob);
        }, Wait, TimeSpan.FromMilliseconds(10));

        // The entity that followed knows a laptop the old routes never named: it may have missed those pushes.
        var (nextEntity, laptop) = (CreateTestProbe(), CreateTestProbe());
        nextEntity.Send(chat, new PresenceCommands.DeviceRoutes(Bob, [phone.Ref, laptop.Ref], 2));
        Assert.IsType<ChatWatch.ChatHead>(laptop.ReceiveOne(Wait));
        phone.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Devices_the_successor_of_a_stopped_entity_does_not_know_yet_are_still_pushed_to_until_it_does()
    {
        var (presence, chat, bobEntity, phone) = ChatWhoseRoutesToBobsPhoneAreIn();
        Sys.Stop(bobEntity.Ref);
        AwaitAssert(() =>
        {
            Send(chat, Alice, $"after-{Guid.NewGuid():N}");
            phone.ExpectMsg<ChatNotices.NewMessage>(Wait);
            Assert.Contains(new PresenceCommands.WatchRoutes(Bob, chat, 2), presence.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m));
        }, Wait, TimeSpan.FromMilliseconds(10));

        // The phone has not registered with the entity that followed yet.
        var nextEntity = CreateTestProbe();
        nextEntity.Send(chat, new PresenceCommands.DeviceRoutes(Bob, [], 2));
        Send(chat, Alice, "carried");
        Assert.Equal("carried", phone.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.ClientMsgId);

        // Now it has: no head (it missed nothing), and one copy of each push.
        nextEntity.Send(chat, new PresenceCommands.DeviceRoutes(Bob, [phone.Ref], 2));
        Send(chat, Alice, "known");
        Assert.Equal("known", phone.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.ClientMsgId);
        phone.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_chat_with_nothing_waiting_stops_asking_an_entity_that_does_not_answer()
    {
        var presence = CreateTestProbe();
        var chat = StartChat(presence, new ChatSettings { RoutesAnswerWithin = TimeSpan.FromSeconds(1) });
        Send(chat, Alice, "m1");
        presence.ReceiveN(4, Wait);

        presence.ExpectNoMsg(TimeSpan.FromSeconds(2.5));

        Send(chat, Alice, "m2"); // through presence again, asking behind it
        var toBob = presence.ReceiveN(4, Wait).Where(m => m is PresenceCommands.DeliverNotice { UserId: var u } && u == Bob
            || m is PresenceCommands.WatchRoutes { UserId: var w } && w == Bob).ToList();
        Assert.Equal(2, ((ChatNotices.NewMessage)((PresenceCommands.DeliverNotice)toBob[0]).Notice).Message.Seq);
        Assert.Equal(new PresenceCommands.WatchRoutes(Bob, chat, 2), toBob[1]);
    }

    [Fact]
    public void Routes_in_use_are_asked_for_again_after_a_while_so_a_lost_change_is_repaired()
    {
        var (presence, chat, bobEntity, phone) = ChatWhoseRoutesToBobsPhoneAreIn(new ChatSettings { RoutesAskAgainAfter = TimeSpan.FromMilliseconds(300) });
        var laptop = CreateTestProbe();
        // The change that named the laptop was lost on its way.

        Thread.Sleep(400);
        Send(chat, Alice, "m3");
        Assert.Equal(3, phone.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq); // straight, as before
        var asked = presence.FishForMessage(m => m is PresenceCommands.WatchRoutes { UserId: var u } && u == Bob, Wait);
        bobEntity.Send(chat, new PresenceCommands.DeviceRoutes(Bob, [phone.Ref, laptop.Ref], 2));

        Assert.Equal(new PresenceCommands.WatchRoutes(Bob, chat, 2), asked);
        Assert.Equal(new ChatWatch.ChatHead(AliceAndBob, 3), laptop.ExpectMsg<ChatWatch.ChatHead>(Wait));
    }

    [Fact]
    public void A_presence_entity_tells_a_chat_that_asked_its_connections_at_once_and_at_every_change_and_forgets_a_chat_that_stopped()
    {
        var entity = StartEntity();
        var (chat, phone, laptop) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        Online(entity, Phone, phone);

        entity.Tell(new PresenceCommands.WatchRoutes(Bob, chat.Ref, 7));
        AssertRoutes(chat.ExpectMsg<PresenceCommands.DeviceRoutes>(Wait), 7, phone);

        Online(entity, Laptop, laptop);
        AssertRoutes(chat.ExpectMsg<PresenceCommands.DeviceRoutes>(Wait), 7, phone, laptop);
        entity.Tell(new PresenceCommands.WatchRoutes(Bob, chat.Ref, 8)); // asked again: the answer and later changes say so
        AssertRoutes(chat.ExpectMsg<PresenceCommands.DeviceRoutes>(Wait), 8, phone, laptop);
        entity.Tell(Refresh(Laptop, laptop.Ref, registered: true)); // the same connection again: no change
        chat.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        var newerLaptop = CreateTestProbe(); // a newer connection of the laptop replaces the older one
        entity.Tell(Refresh(Laptop, newerLaptop.Ref, registered: false) with { ConnectionId = "newer", ConnectedAt = T0.AddMinutes(1) });
        AssertRoutes(chat.ExpectMsg<PresenceCommands.DeviceRoutes>(Wait), 8, phone, newerLaptop);
        entity.Tell(new PresenceCommands.DeviceOffline(Bob, Phone, ConnectionIdOf(Phone), DateTimeOffset.UtcNow));
        AssertRoutes(chat.ExpectMsg<PresenceCommands.DeviceRoutes>(Wait), 8, newerLaptop);
        entity.Tell(new PresenceCommands.MemberDeparted(((ExtendedActorSystem)Sys).Provider.DefaultAddress));
        AssertRoutes(chat.ExpectMsg<PresenceCommands.DeviceRoutes>(Wait), 8);

        // A chat that stopped is told nothing more (once the entity has its Terminated).
        var deadLetters = CreateTestProbe();
        Sys.EventStream.Subscribe(deadLetters.Ref, typeof(DeadLetter));
        Sys.Stop(chat.Ref);
        AwaitAssert(() =>
        {
            var device = new DeviceId(Random.Shared.Next(10, 1_000_000));
            entity.Tell(Refresh(device, CreateTestProbe().Ref, registered: false) with { Device = device, ConnectionId = $"c-{device.Value}" });
            var letters = deadLetters.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m as DeadLetter);
            Assert.DoesNotContain(letters, l => l.Message is PresenceCommands.DeviceRoutes);
        }, Wait, TimeSpan.FromMilliseconds(10));
    }

    [Fact]
    public void A_presence_entity_that_fails_stops_so_that_the_chats_it_told_ask_the_one_that_follows()
    {
        var entity = StartEntity();
        Watch(entity);
        entity.Tell(Refresh(Phone, null!, registered: false)); // telling a connection that is not there throws

        ExpectTerminated(entity, Wait);
    }

    /// <summary>Real regions, the chat, and Bob's phone connected: it has had m1, so the chat has asked for the routes.</summary>
    private (StandInRegions Regions, StandInDevice Phone) BobsPhoneWithTheFirstMessage()
    {
        var regions = StandInRegions.Start(Sys);
        CreateChat(regions.Chats);
        var phone = StandInDevice.Connect(this, regions, Bob, Phone);
        Send(regions.Chats, Alice, "m1");
        Assert.Equal("m1", phone.NextMessage(AliceAndBob).ClientMsgId);
        return (regions, phone);
    }

    /// <summary>A chat (its presence region a probe) whose m2 went straight to Bob's phone, as Bob's entity answered.</summary>
    private (TestProbe Presence, IActorRef Chat, TestProbe BobEntity, TestProbe Phone) ChatWhoseRoutesToBobsPhoneAreIn(ChatSettings? settings = null)
    {
        var presence = CreateTestProbe();
        var chat = StartChat(presence, settings);
        var (bobEntity, phone) = (CreateTestProbe(), CreateTestProbe());
        Send(chat, Alice, "m1");
        presence.ReceiveN(4, Wait);
        bobEntity.Send(chat, new PresenceCommands.DeviceRoutes(Bob, [phone.Ref], 1));
        Send(chat, Alice, "m2");
        Assert.Equal(2, phone.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq);
        return (presence, chat, bobEntity, phone);
    }

    /// <summary>The first push of a chat to <paramref name="member"/>, through presence, and the ask for routes behind it.</summary>
    private static (PresenceCommands.DeliverNotice Push, PresenceCommands.WatchRoutes Ask) FirstPushAndAsk(TestProbe presence, UserId member)
    {
        var sent = presence.ReceiveN(4, Wait);
        return (sent.OfType<PresenceCommands.DeliverNotice>().Single(d => d.UserId == member),
            sent.OfType<PresenceCommands.WatchRoutes>().Single(w => w.UserId == member));
    }

    private IActorRef StartEntity() => Sys.ActorOf(PresenceActor.PropsFor(Bob.Value, CreateTestProbe().Ref, CreateTestProbe().Ref));

    private static void AssertRoutes(PresenceCommands.DeviceRoutes routes, long ask, params TestProbe[] connections)
    {
        Assert.Equal((Bob, ask), (routes.UserId, routes.Ask));
        Assert.Equal(connections.Select(c => c.Ref).ToHashSet(), routes.Connections.ToHashSet());
    }

    private IActorRef StartChat(TestProbe presence, ChatSettings? settings = null)
    {
        var chat = Sys.ActorOf(ChatActor.PropsFor(AliceAndBob.Value, presence, settings ?? new ChatSettings()));
        CreateChat(chat);
        return chat;
    }

    private void CreateChat(IActorRef chats)
    {
        chats.Tell(new CreateChat(AliceAndBob, ChatKind.Direct, [Alice, Bob], Alice, T0));
        ExpectMsg<ChatReady>(Wait);
    }

    private void Send(IActorRef chats, UserId from, string clientMsgId)
    {
        chats.Tell(new SendMessage(AliceAndBob, from, Phone, clientMsgId, [1, 2, 3], DateTimeOffset.UtcNow));
        Assert.Equal(clientMsgId, ExpectMsg<MessageAccepted>(Wait).ClientMsgId);
    }

    private void Online(IActorRef entity, DeviceId device, TestProbe connection)
    {
        entity.Tell(Refresh(device, connection.Ref, registered: false));
        connection.ExpectMsg<PresenceCommands.PresenceRegistered>(Wait);
    }

    private static PresenceCommands.DeviceOnline Refresh(DeviceId device, IActorRef connection, bool registered) =>
        new(Bob, device, ConnectionIdOf(device), connection, T0, DateTimeOffset.UtcNow, registered, RefreshSeconds: 30);

    private static string ConnectionIdOf(DeviceId device) => $"connection-{device.Value}";
}
