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

/// <summary>Group rules of the ChatActor against a real SQLite journal: admins, limits, invites, visibility, receipts.</summary>
public sealed class GroupChatSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000001");
    private static readonly UserId Bob = new("15550000002");
    private static readonly UserId Carol = new("15550000003");
    private static readonly UserId Dave = new("15550000004");
    private static readonly DeviceId Phone = new(1);
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly ChatId _group = ChatId.NewGroup();
    private readonly TestProbe _presence;

    public GroupChatSpecs() : base(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "group-specs")
    {
        _presence = CreateTestProbe("presence");
    }

    private IActorRef StartGroup(ChatSettings? settings = null) =>
        Sys.ActorOf(ChatActor.PropsFor(_group.Value, _presence, settings ?? new ChatSettings()));

    private object Change(IActorRef chat, UserId by, GroupAction action, IReadOnlyList<UserId>? users = null, string? name = null,
        string? inviteHash = null)
    {
        chat.Tell(new ChangeGroup(_group, by, Phone, action, users ?? [], name, inviteHash, T0));
        return ExpectMsg<object>(Wait);
    }

    private GroupUpdated Done(IActorRef chat, UserId by, GroupAction action, IReadOnlyList<UserId>? users = null, string? name = null,
        string? inviteHash = null) =>
        Assert.IsType<GroupUpdated>(Change(chat, by, action, users, name, inviteHash));

    private void Refused(string code, object reply) => Assert.Equal(code, Assert.IsType<ChatRejected>(reply).Code);

    private MessageAccepted Send(IActorRef chat, UserId from, string clientMsgId)
    {
        chat.Tell(new SendMessage(_group, from, Phone, clientMsgId, [1], T0));
        return ExpectMsg<MessageAccepted>(Wait);
    }

    private T Ask<T>(IActorRef chat, IChatQuery query)
    {
        chat.Tell(query);
        return ExpectMsg<T>(Wait);
    }

    private IActorRef CreateWithAliceBobCarol(ChatSettings? settings = null)
    {
        var chat = StartGroup(settings);
        Assert.Equal(1, Done(chat, Alice, GroupAction.Create, [Bob, Carol], "Climbing").Seq);
        return chat;
    }

    [Fact]
    public void Only_admins_add_remove_promote_demote_rename_and_reset_the_invite()
    {
        var chat = CreateWithAliceBobCarol();

        Refused(ChatRejections.NotAdmin, Change(chat, Bob, GroupAction.Add, [Dave]));
        Refused(ChatRejections.NotAdmin, Change(chat, Bob, GroupAction.Remove, [Carol]));
        Refused(ChatRejections.NotAdmin, Change(chat, Bob, GroupAction.Promote, [Bob]));
        Refused(ChatRejections.NotAdmin, Change(chat, Bob, GroupAction.Demote, [Alice]));
        Refused(ChatRejections.NotAdmin, Change(chat, Bob, GroupAction.Rename, name: "Mine"));
        Refused(ChatRejections.NotAdmin, Change(chat, Bob, GroupAction.ResetInvite, inviteHash: ChatState.HashInviteCode("x")));
        Refused(ChatRejections.NotMember, Change(chat, Dave, GroupAction.Add, [Dave]));

        Assert.Equal(2, Done(chat, Alice, GroupAction.Promote, [Bob]).Seq);
        Assert.Equal(3, Done(chat, Bob, GroupAction.Add, [Dave]).Seq);
        Assert.Equal(4, Done(chat, Bob, GroupAction.Rename, name: "Bouldering").Seq);
        // Nothing to change: answered without a log entry.
        Assert.Equal(0, Done(chat, Bob, GroupAction.Add, [Dave]).Seq);

        var summary = Ask<ChatSummary>(chat, new GetChatSummary(_group, Dave));
        Assert.Equal("Bouldering", summary.Group!.Name);
        Assert.Equal(new[] { Alice, Bob }, summary.Group.Admins);
        Assert.Equal(new[] { Alice, Bob, Carol, Dave }, summary.Members);
    }

    [Fact]
    public void The_last_admin_leaving_hands_the_role_to_the_longest_standing_member()
    {
        var chat = CreateWithAliceBobCarol();
        Done(chat, Alice, GroupAction.Add, [Dave]);

        var left = Done(chat, Alice, GroupAction.Leave);

        var log = Ask<MessagePage>(chat, new GetMessagesAfter(_group, Bob, Phone, 0, 100)).Messages;
        Assert.Equal(new[] { GroupChangeKind.Created, GroupChangeKind.Added, GroupChangeKind.Left, GroupChangeKind.Promoted },
            log.Select(m => m.Change!.Kind));
        // The answer names the last entry the action made.
        Assert.Equal(left.Seq, log[3].Seq);
        // Bob and Carol joined at creation, before Dave; Bob is first by id.
        Assert.Equal(new[] { Bob }, log[3].Change!.Users);
        Assert.Equal(new[] { Bob }, Ask<ChatSummary>(chat, new GetChatSummary(_group, Bob)).Group!.Admins);
        Refused(ChatRejections.NotMember, Change(chat, Alice, GroupAction.Leave));
    }

    [Fact]
    public void A_group_keeps_at_least_one_admin()
    {
        var chat = CreateWithAliceBobCarol();
        Refused(ChatRejections.InvalidMembers, Change(chat, Alice, GroupAction.Demote, [Alice]));
        Refused(ChatRejections.InvalidMembers, Change(chat, Alice, GroupAction.Remove, [Alice]));
        Refused(ChatRejections.InvalidMembers, Change(chat, Alice, GroupAction.Promote, [Dave]));
    }

    [Fact]
    public void The_member_limit_holds_on_create_add_and_join()
    {
        var settings = new ChatSettings { MaxGroupMembers = 3 };
        var tooBig = StartGroup(settings);
        Refused(ChatRejections.GroupFull, Change(tooBig, Alice, GroupAction.Create, [Bob, Carol, Dave], "Big"));
        Watch(tooBig);
        Sys.Stop(tooBig);
        ExpectTerminated(tooBig);

        var chat = CreateWithAliceBobCarol(settings);
        Refused(ChatRejections.GroupFull, Change(chat, Alice, GroupAction.Add, [Dave]));
        Done(chat, Alice, GroupAction.ResetInvite, inviteHash: ChatState.HashInviteCode("let-me-in"));
        Refused(ChatRejections.GroupFull, Change(chat, Dave, GroupAction.Join, inviteHash: ChatState.HashInviteCode("let-me-in")));

        Done(chat, Carol, GroupAction.Leave);
        Assert.True(Done(chat, Dave, GroupAction.Join, inviteHash: ChatState.HashInviteCode("let-me-in")).Seq > 0);
    }

    [Fact]
    public void Joining_needs_the_current_invite_code()
    {
        var chat = CreateWithAliceBobCarol();
        Refused(ChatRejections.InvalidInvite, Change(chat, Dave, GroupAction.Join, inviteHash: ChatState.HashInviteCode("guess")));

        Done(chat, Alice, GroupAction.ResetInvite, inviteHash: ChatState.HashInviteCode("first"));
        Done(chat, Alice, GroupAction.ResetInvite, inviteHash: ChatState.HashInviteCode("second"));
        Refused(ChatRejections.InvalidInvite, Change(chat, Dave, GroupAction.Join, inviteHash: ChatState.HashInviteCode("first")));
        Refused(ChatRejections.InvalidInvite, Change(chat, Dave, GroupAction.Join));

        var joined = Done(chat, Dave, GroupAction.Join, inviteHash: ChatState.HashInviteCode("second"));
        Assert.Equal(GroupChangeKind.Joined, Ask<MessagePage>(chat, new GetMessagesAfter(_group, Dave, Phone, 0, 10)).Messages.Single().Change!.Kind);
        Assert.Equal(2, joined.Seq);
    }

    [Fact]
    public void A_new_member_sees_history_from_the_entry_that_added_them()
    {
        var chat = CreateWithAliceBobCarol();
        for (var i = 0; i < 5; i++) Send(chat, Alice, $"before-{i}");
        var added = Done(chat, Alice, GroupAction.Add, [Dave]).Seq;
        Send(chat, Bob, "after");

        var catchUp = Ask<MessagePage>(chat, new GetMessagesAfter(_group, Dave, Phone, 0, 100));
        Assert.Equal(added - 1, catchUp.After);
        Assert.Equal(new[] { added, added + 1 }, catchUp.Messages.Select(m => m.Seq));

        var history = Ask<MessagePage>(chat, new GetMessagesBefore(_group, Dave, null, 100));
        Assert.Equal(new[] { added + 1, added }, history.Messages.Select(m => m.Seq));
        Assert.False(history.HasMore);
        Assert.Empty(Ask<MessagePage>(chat, new GetMessagesBefore(_group, Dave, added, 100)).Messages);

        // Everyone else still sees everything.
        Assert.Equal(added + 1, Ask<MessagePage>(chat, new GetMessagesAfter(_group, Bob, Phone, 0, 100)).Messages.Count);
    }

    [Fact]
    public void A_removed_member_gets_the_removal_and_nothing_after_it()
    {
        var chat = CreateWithAliceBobCarol();
        var bobsEdge = CreateTestProbe();
        var carolsEdge = CreateTestProbe();
        chat.Tell(new ChatWatch.WatchChat(_group, Bob, bobsEdge), bobsEdge);
        Assert.True(bobsEdge.ExpectMsg<ChatWatch.ChatWatched>(Wait).Accepted);
        chat.Tell(new ChatWatch.WatchChat(_group, Carol, carolsEdge), carolsEdge);
        Assert.True(carolsEdge.ExpectMsg<ChatWatch.ChatWatched>(Wait).Accepted);
        chat.Tell(new ChatWatch.WatchChat(_group, Dave, carolsEdge), carolsEdge);
        Assert.False(carolsEdge.ExpectMsg<ChatWatch.ChatWatched>(Wait).Accepted);

        Send(chat, Alice, "hello");
        Assert.Equal(2, bobsEdge.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq);
        Assert.Equal(2, carolsEdge.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq);

        var removal = Done(chat, Alice, GroupAction.Remove, [Carol]).Seq;
        Assert.Equal(removal, carolsEdge.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq);
        Assert.Equal(removal, bobsEdge.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq);

        Send(chat, Alice, "without carol");
        Assert.Equal(removal + 1, bobsEdge.ExpectMsg<ChatNotices.NewMessage>(Wait).Message.Seq);
        carolsEdge.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        // Her sends are refused; she still reads what she was there for, up to her removal.
        chat.Tell(new SendMessage(_group, Carol, Phone, "late", [1], T0));
        Assert.Equal(ChatRejections.NotMember, ExpectMsg<ChatRejected>(Wait).Code);
        var hers = Ask<MessagePage>(chat, new GetMessagesAfter(_group, Carol, Phone, 0, 100));
        Assert.Equal(removal, hers.Messages[^1].Seq);
        Assert.Equal(removal, hers.LastSeq);
        Assert.False(Ask<ChatSummary>(chat, new GetChatSummary(_group, Carol)).Group!.IsMember);
        Refused(ChatRejections.NotMember, Change(chat, Carol, GroupAction.Leave));
    }

    [Fact]
    public void Receipts_aggregate_to_delivered_to_all_and_read_by_all_and_per_message_info()
    {
        var chat = CreateWithAliceBobCarol();
        var edge = CreateTestProbe();
        chat.Tell(new ChatWatch.WatchChat(_group, Bob, edge), edge);
        edge.ExpectMsg<ChatWatch.ChatWatched>(Wait);
        var m2 = Send(chat, Alice, "one").Seq;
        var m3 = Send(chat, Alice, "two").Seq;

        chat.Tell(new AdvanceCursor(_group, Bob, Phone, CursorKind.Delivered, m3, T0));
        chat.Tell(new AdvanceCursor(_group, Carol, Phone, CursorKind.Read, m2, T0));
        ExpectMsg<CursorAccepted>(Wait);
        ExpectMsg<CursorAccepted>(Wait);

        var info = Ask<MessageReceipts>(chat, new GetMessageReceipts(_group, Alice, m2));
        Assert.Equal(new[] { Alice, Carol }, info.ReadBy);
        Assert.Equal(new[] { Bob }, info.DeliveredTo);
        Assert.Empty(info.Pending);
        info = Ask<MessageReceipts>(chat, new GetMessageReceipts(_group, Alice, m3));
        Assert.Equal(new[] { Alice }, info.ReadBy);
        Assert.Equal(new[] { Bob }, info.DeliveredTo);
        Assert.Equal(new[] { Carol }, info.Pending);

        var receipts = edge.FishForMessage<ChatNotices.GroupReceiptsUpdated>(r => r.Receipts.DeliveredToAll == m2, Wait).Receipts;
        Assert.Equal(new GroupReceipts(m2, 0), receipts);

        // A member added later counts as having everything before them: "delivered to all" does not move back.
        Done(chat, Alice, GroupAction.Add, [Dave]);
        Assert.Equal(new GroupReceipts(m2, 0), Ask<ChatSummary>(chat, new GetChatSummary(_group, Alice)).Group!.Receipts);
        // Message info lists only those who were members at that message.
        Assert.DoesNotContain(Dave, Ask<MessageReceipts>(chat, new GetMessageReceipts(_group, Alice, m3)).Pending);
        Assert.Equal(new[] { Bob, Carol, Dave }, Ask<MessageReceipts>(chat, new GetMessageReceipts(_group, Alice, m3 + 1)).Pending);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(3)]
    public void Membership_admins_name_and_visibility_survive_a_restart(int snapshotEvery)
    {
        var settings = new ChatSettings { SnapshotEvery = snapshotEvery };
        var chat = CreateWithAliceBobCarol(settings);
        Send(chat, Alice, "a");
        Done(chat, Alice, GroupAction.Add, [Dave]);
        Done(chat, Alice, GroupAction.Remove, [Carol]);
        Done(chat, Alice, GroupAction.Promote, [Dave]);
        Done(chat, Alice, GroupAction.ResetInvite, inviteHash: ChatState.HashInviteCode("code"));
        Send(chat, Dave, "b");

        Watch(chat);
        chat.Tell(ChatActor.Stop.Instance);
        ExpectTerminated(chat, Wait);
        var restarted = StartGroup(settings);

        var summary = Ask<ChatSummary>(restarted, new GetChatSummary(_group, Dave));
        Assert.Equal(new[] { Alice, Bob, Dave }, summary.Members);
        Assert.Equal(new[] { Alice, Dave }, summary.Group!.Admins);
        Assert.Equal(6, summary.LastSeq);
        Assert.Equal(2, Ask<MessagePage>(restarted, new GetMessagesAfter(_group, Dave, Phone, 0, 100)).After);
        Assert.Equal(4, Ask<MessagePage>(restarted, new GetMessagesAfter(_group, Carol, Phone, 0, 100)).LastSeq);
        Refused(ChatRejections.NotMember, Change(restarted, Carol, GroupAction.Leave));
        Assert.Equal(7, Done(restarted, Carol, GroupAction.Join, inviteHash: ChatState.HashInviteCode("code")).Seq);
    }
}
