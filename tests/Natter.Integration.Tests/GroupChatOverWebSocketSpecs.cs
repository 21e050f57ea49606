using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// Groups through the real edge: real WebSocket clients and REST, a real journal (SQLite and PostgreSQL).
/// </summary>
public abstract class GroupChatOverWebSocketSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    protected InProcessServer Server { get; private set; } = null!;

    protected abstract Task<Journal> JournalAsync();

    public async Task InitializeAsync() => Server = await InProcessServer.StartAsync(await JournalAsync());

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task<List<DeviceSession>> RegisterAsync(int count)
    {
        var sessions = new List<DeviceSession>();
        // A few at a time: registration is two REST calls and a persisted account each.
        foreach (var batch in Enumerable.Range(0, count).Chunk(20))
            sessions.AddRange(await Task.WhenAll(batch.Select(_ => Server.RegisterAsync())));
        return sessions;
    }

    private static List<(long Seq, string ClientMsgId)> View(NatterConnection c, string chatId) =>
        c.Received.Of(chatId).Select(m => (m.Seq, m.ClientMsgId)).ToList();

    [Fact]
    public async Task A_200_member_group_half_online_half_offline_gets_every_message_in_one_order_and_receipts_add_up()
    {
        const int members = 200, messages = 30;
        var users = await RegisterAsync(members);
        var admin = users[0];
        var created = await Server.Api.GroupAsync(admin.AccessToken, "create", name: "Two hundred",
            userIds: users.Skip(1).Select(u => "+" + u.UserId).ToList());
        Assert.True(created.Ok);
        var groupId = created.GroupId;

        var online = await Task.WhenAll(users.Take(members / 2).Select(u => Server.ConnectAsync(u)));
        await Task.WhenAll(online.Select(c => c.SyncAsync()));

        // Three senders at once: the group still has one order, and each sender's messages keep theirs.
        var senders = online.Take(3).ToList();
        var sends = senders.SelectMany((s, i) => Enumerable.Range(0, messages / 3)
            .Select(n => s.SendPipelinedAsync(groupId, $"s{i}-{n:D2}", [(byte)n]))).ToList();
        var acks = (await Task.WhenAll(sends)).Cast<AckFrame>().ToList();
        var lastSeq = acks.Max(a => a.Seq);
        Assert.Equal(messages + 1, lastSeq); // the "created" entry, then the messages

        await Task.WhenAll(online.Select(c => c.Received.WaitForCountAsync(groupId, (int)lastSeq, Wait)));
        var order = View(online[0], groupId);
        Assert.Equal(Enumerable.Range(1, (int)lastSeq).Select(i => (long)i), order.Select(e => e.Seq));
        Assert.All(online, c => Assert.Equal(order, View(c, groupId)));
        for (var i = 0; i < 3; i++)
            Assert.Equal(Enumerable.Range(0, messages / 3).Select(n => $"s{i}-{n:D2}"),
                order.Select(e => e.ClientMsgId).Where(id => id.StartsWith($"s{i}-")));

        var offline = await Task.WhenAll(users.Skip(members / 2).Select(u => Server.ConnectAsync(u)));
        await Task.WhenAll(offline.Select(c => c.SyncAsync()));
        await Task.WhenAll(offline.Select(c => c.Received.WaitForCountAsync(groupId, (int)lastSeq, Wait)));
        Assert.All(offline, c => Assert.Equal(order, View(c, groupId)));
        var everyone = online.Concat(offline).ToList();
        Assert.Equal(0, everyone.Sum(c => c.Received.Duplicates + c.Received.OutOfOrder));

        // Everyone has it; the first half has also read it.
        await Task.WhenAll(everyone.Select(c => c.MarkDeliveredAsync(groupId, lastSeq)));
        await Task.WhenAll(online.Select(c => c.MarkReadAsync(groupId, lastSeq)));
        await Eventually.UntilAsync(async () => (await Server.Api.GetGroupsAsync(admin.AccessToken)).Single(g => g.GroupId == groupId),
            g => g.DeliveredToAll == lastSeq, Wait, "delivered to all");
        await senders[0].NextAsync<GroupReceiptsFrame>(r => r.DeliveredToAll == lastSeq, Wait);

        // Read frames travel on 100 connections; ask until the last of them has landed.
        var info = await Eventually.UntilAsync(() => senders[0].MessageInfoAsync(groupId, lastSeq), i => i.ReadBy.Count >= members / 2,
            Wait, "every read receipt");
        Assert.Equal(members / 2, info.ReadBy.Count);
        Assert.Equal(members / 2, info.DeliveredTo.Count);
        Assert.Empty(info.Pending);
        var groups = await Server.Api.GetGroupsAsync(admin.AccessToken);
        var group = Assert.Single(groups);
        Assert.Equal((groupId, "Two hundred", members, lastSeq), (group.GroupId, group.Name, group.Members.Count, group.DeliveredToAll));
        Assert.True(group.ReadByAll < lastSeq);

        await Task.WhenAll(everyone.Select(c => c.CloseAsync()));
    }

    [Fact]
    public async Task Joining_by_invite_sees_history_from_the_join_and_a_removed_member_gets_nothing_after_removal()
    {
        var users = await RegisterAsync(4);
        var (alice, bob, carol, dave) = (users[0], users[1], users[2], users[3]);
        await using var aliceSocket = await Server.ConnectAsync(alice);
        await using var bobSocket = await Server.ConnectAsync(bob);
        await using var carolSocket = await Server.ConnectAsync(carol);
        await Task.WhenAll(aliceSocket.SyncAsync(), bobSocket.SyncAsync(), carolSocket.SyncAsync());

        var groupId = (await aliceSocket.GroupAsync("create", name: "Trip", userIds: ["+" + bob.UserId, "+" + carol.UserId])).GroupId;
        await carolSocket.Received.WaitForCountAsync(groupId, 1, Wait);
        await aliceSocket.SendAsync(groupId, "before-dave", [1]);
        var code = (await aliceSocket.GroupAsync("reset_invite", groupId)).InviteCode!;

        // The case study's POST /groups: join with an invite code, a boolean answer.
        var joined = await Server.Api.GroupAsync(dave.AccessToken, "join", groupId, inviteCode: code);
        Assert.True(joined.Ok);
        await using var daveSocket = await Server.ConnectAsync(dave);
        await daveSocket.SyncAsync();
        Assert.Equal(new[] { joined.Seq }, daveSocket.Received.Of(groupId).Select(m => m.Seq));
        Assert.Equal("joined", daveSocket.Received.Of(groupId)[0].Change!.Kind);
        var history = await Server.Api.GetGroupMessagesAsync(dave.AccessToken, groupId);
        Assert.Equal(new[] { joined.Seq }, history.Messages.Select(m => m.Seq));

        // An admin removes Carol: she sees her removal, then nothing more; her sends are refused.
        var removed = await Server.Api.GroupAsync(alice.AccessToken, "leave", groupId, userId: "+" + carol.UserId);
        Assert.Equal("remove", removed.Action);
        await carolSocket.Received.WaitForCountAsync(groupId, (int)removed.Seq, Wait);
        Assert.Equal("removed", carolSocket.Received.Of(groupId)[^1].Change!.Kind);
        var after = await aliceSocket.SendAsync(groupId, "after-carol", [2]);
        await bobSocket.Received.WaitForCountAsync(groupId, (int)after.Seq, Wait);
        await daveSocket.Received.WaitForCountAsync(groupId, 2, Wait);
        var refused = await Assert.ThrowsAsync<NatterApiException>(() => carolSocket.SendAsync(groupId, "carol-late", [3]));
        Assert.Equal(ErrorCodes.NotMember, refused.Code);
        // Bob has the message, so anything sent to Carol with it is queued before this round trip's pong.
        await carolSocket.RoundTripAsync();
        Assert.Equal(removed.Seq, carolSocket.Received.Of(groupId)[^1].Seq);

        // She resyncs on a new connection: still nothing after her removal.
        await using var carolAgain = await Server.ConnectAsync(carol);
        await carolAgain.SyncAsync();
        Assert.Equal(removed.Seq, carolAgain.Received.Of(groupId)[^1].Seq);

        // Re-added, the same connection (whose subscription was refused at its sync) gets live entries again.
        var seenBefore = carolAgain.Received.Of(groupId).Count;
        var readded = await aliceSocket.GroupAsync("add", groupId, ["+" + carol.UserId]);
        var welcomeBack = await aliceSocket.SendAsync(groupId, "welcome-back", [4]);
        await carolAgain.Received.WaitForCountAsync(groupId, seenBefore + 2, Wait);
        Assert.Equal(new[] { readded.Seq, welcomeBack.Seq }, carolAgain.Received.Of(groupId).TakeLast(2).Select(m => m.Seq));

        var left = await Server.Api.GroupAsync(dave.AccessToken, "leave", groupId);
        Assert.True(left.Ok);
        var notIn = await Assert.ThrowsAsync<NatterApiException>(() => Server.Api.GroupAsync(dave.AccessToken, "leave", groupId));
        Assert.Equal((ErrorCodes.NotMember, (int?)403), (notIn.Code, notIn.HttpStatus));
    }
}

public sealed class SqliteGroupChatOverWebSocketSpecs : GroupChatOverWebSocketSpecs
{
    protected override Task<Journal> JournalAsync() => Task.FromResult(Journal.Sqlite());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresGroupChatOverWebSocketSpecs(PostgresFixture postgres) : GroupChatOverWebSocketSpecs
{
    protected override async Task<Journal> JournalAsync() => Journal.Postgres(await postgres.CreateDatabaseAsync());
}

