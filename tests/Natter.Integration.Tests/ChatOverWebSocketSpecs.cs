using Natter.Testing;
using System.Text;
using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// 1:1 chat through the real edge (Kestrel on 127.0.0.1, real WebSocket clients, a real journal).
/// Runs once per journal: SQLite (embedded default) and PostgreSQL.
/// </summary>
public abstract class ChatOverWebSocketSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    protected InProcessServer Server { get; private set; } = null!;

    protected abstract Task<Journal> JournalAsync();

    public async Task InitializeAsync() => Server = await InProcessServer.StartAsync(await JournalAsync());

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task<(DeviceSession Alice, DeviceSession Bob, string ChatId)> TwoUsersWithAChatAsync()
    {
        var alice = await Server.RegisterAsync();
        var bob = await Server.RegisterAsync();
        var chat = await Server.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId);
        return (alice, bob, chat.ChatId);
    }

    [Fact]
    public async Task Online_recipient_receives_the_message_the_sender_got_an_ack_for()
    {
        var (alice, bob, chatId) = await TwoUsersWithAChatAsync();
        await using var aliceSocket = await Server.ConnectAsync(alice);
        await using var bobSocket = await Server.ConnectAsync(bob);
        await aliceSocket.SyncAsync();
        await bobSocket.SyncAsync();

        var ack = await aliceSocket.SendAsync(chatId, "hello-1", "ciphertext"u8.ToArray());

        Assert.Equal(1, ack.Seq);
        Assert.False(ack.Duplicate);
        await bobSocket.Received.WaitForCountAsync(chatId, 1, Wait);
        var received = Assert.Single(bobSocket.Received.Of(chatId));
        Assert.Equal(("hello-1", alice.UserId, alice.DeviceId, "ciphertext"),
            (received.ClientMsgId, received.Sender, received.SenderDevice, Encoding.UTF8.GetString(received.Body)));
        // The sending connection gets no copy (protocol §6.3): the client holds its own message from the ack.
        Assert.Equal("hello-1", Assert.Single(aliceSocket.Received.Of(chatId)).ClientMsgId);
    }

    [Fact]
    public async Task A_send_over_rest_reaches_the_same_devices_open_socket()
    {
        var (alice, _, chatId) = await TwoUsersWithAChatAsync();
        await using var aliceSocket = await Server.ConnectAsync(alice);
        await aliceSocket.SyncAsync();

        await Server.Api.PostMessageAsync(alice.AccessToken, chatId, "over-rest", [1]);

        // Not acked on this socket, so its copy comes here: the device's socket holds the same history.
        var copy = await aliceSocket.NextAsync<MessageFrame>(m => m.ClientMsgId == "over-rest");
        Assert.Equal((alice.UserId, alice.DeviceId), (copy.Sender, copy.SenderDevice));
    }

    [Fact]
    public async Task Two_senders_writing_concurrently_both_see_one_and_the_same_order()
    {
        const int each = 60;
        var (alice, bob, chatId) = await TwoUsersWithAChatAsync();
        await using var aliceSocket = await Server.ConnectAsync(alice);
        await using var bobSocket = await Server.ConnectAsync(bob);
        await aliceSocket.SyncAsync();
        await bobSocket.SyncAsync();

        var aliceSends = Enumerable.Range(1, each).Select(i => aliceSocket.SendPipelinedAsync(chatId, $"a{i}", [(byte)i])).ToList();
        var bobSends = Enumerable.Range(1, each).Select(i => bobSocket.SendPipelinedAsync(chatId, $"b{i}", [(byte)i])).ToList();
        var acks = (await Task.WhenAll(aliceSends.Concat(bobSends))).Cast<AckFrame>().ToList();

        Assert.Equal(Enumerable.Range(1, 2 * each).Select(i => (long)i), acks.Select(a => a.Seq).Order());
        await aliceSocket.Received.WaitForCountAsync(chatId, 2 * each, Wait);
        await bobSocket.Received.WaitForCountAsync(chatId, 2 * each, Wait);
        var aliceView = aliceSocket.Received.Of(chatId).Select(m => (m.Seq, m.ClientMsgId)).ToList();
        var bobView = bobSocket.Received.Of(chatId).Select(m => (m.Seq, m.ClientMsgId)).ToList();
        Assert.Equal(aliceView, bobView);
        // Each sender's messages keep the order they were sent in.
        Assert.Equal(Enumerable.Range(1, each).Select(i => $"a{i}"), aliceView.Where(m => m.ClientMsgId[0] == 'a').Select(m => m.ClientMsgId));
        Assert.Equal(Enumerable.Range(1, each).Select(i => $"b{i}"), aliceView.Where(m => m.ClientMsgId[0] == 'b').Select(m => m.ClientMsgId));
        Assert.Equal(0, aliceSocket.Received.Duplicates + bobSocket.Received.Duplicates);
        Assert.Equal(0, aliceSocket.Received.OutOfOrder + bobSocket.Received.OutOfOrder);
    }

    [Fact]
    public async Task Rest_lists_chats_with_unread_counts_pages_history_and_sends_idempotently()
    {
        var (alice, bob, chatId) = await TwoUsersWithAChatAsync();
        for (var i = 1; i <= 25; i++)
        {
            var ack = await Server.Api.PostMessageAsync(alice.AccessToken, chatId, $"m{i}", Encoding.UTF8.GetBytes($"body {i}"));
            Assert.Equal(i, ack.Seq);
        }
        var again = await Server.Api.PostMessageAsync(alice.AccessToken, chatId, "m7", "whatever"u8.ToArray());
        Assert.True(again.Duplicate);
        Assert.Equal(7, again.Seq);

        var bobChats = await Server.Api.GetChatsAsync(bob.AccessToken);
        var chat = Assert.Single(bobChats);
        Assert.Equal((chatId, 25L, 25L), (chat.ChatId, chat.LastSeq, chat.Unread));
        Assert.Equal(0, Assert.Single(await Server.Api.GetChatsAsync(alice.AccessToken)).Unread);

        var seqs = new List<long>();
        long? before = null;
        do
        {
            var page = await Server.Api.GetMessagesAsync(bob.AccessToken, chatId, before, limit: 10);
            seqs.AddRange(page.Messages.Select(m => m.Seq));
            before = page.NextBefore;
        } while (before is not null);
        Assert.Equal(Enumerable.Range(1, 25).Reverse().Select(i => (long)i), seqs);
        Assert.Equal("body 25", Encoding.UTF8.GetString((await Server.Api.GetMessagesAsync(bob.AccessToken, chatId, limit: 1)).Messages[0].Body));
    }

    [Fact]
    public async Task Delivered_and_read_receipts_reach_the_sender_and_clear_unread()
    {
        var (alice, bob, chatId) = await TwoUsersWithAChatAsync();
        await using var aliceSocket = await Server.ConnectAsync(alice);
        await using var bobSocket = await Server.ConnectAsync(bob);
        await aliceSocket.SyncAsync();
        await bobSocket.SyncAsync();
        await aliceSocket.SendAsync(chatId, "x1", [1]);
        await aliceSocket.SendAsync(chatId, "x2", [2]);
        await bobSocket.Received.WaitForCountAsync(chatId, 2, Wait);

        await bobSocket.MarkDeliveredAsync(chatId, 2);
        var delivered = await aliceSocket.NextAsync<ReceiptFrame>(r => r.Kind == "delivered");
        Assert.Equal((chatId, bob.UserId, 2L), (delivered.ChatId, delivered.UserId, delivered.Seq));

        await bobSocket.MarkReadAsync(chatId, 2);
        var read = await aliceSocket.NextAsync<ReceiptFrame>(r => r.Kind == "read");
        Assert.Equal((bob.UserId, 2L), (read.UserId, read.Seq));
        Assert.Equal(0, Assert.Single(await Server.Api.GetChatsAsync(bob.AccessToken)).Unread);
    }

    [Fact]
    public async Task A_sender_who_was_offline_learns_on_sync_that_the_recipient_read_the_messages()
    {
        var (alice, bob, chatId) = await TwoUsersWithAChatAsync();
        await Server.Api.PostMessageAsync(alice.AccessToken, chatId, "r1", [1]);
        await Server.Api.PostMessageAsync(alice.AccessToken, chatId, "r2", [2]);
        await using (var bobSocket = await Server.ConnectAsync(bob))
        {
            await bobSocket.SyncAsync();
            await bobSocket.MarkReadAsync(chatId, 2);
            await bobSocket.NextAsync<ReceiptFrame>(r => r.Kind == "read"); // durable once it is pushed
        }

        await using var aliceSocket = await Server.ConnectAsync(alice);
        await aliceSocket.SyncAsync();

        var read = await aliceSocket.NextAsync<ReceiptFrame>(r => r.Kind == "read" && r.UserId == bob.UserId);
        Assert.Equal((chatId, 2L), (read.ChatId, read.Seq));
        var receipts = Assert.Single(await Server.Api.GetChatsAsync(alice.AccessToken)).Receipts;
        Assert.Contains(new ReceiptsView(bob.UserId, 2, 2), receipts);
    }

    [Fact]
    public async Task A_reconnecting_device_gets_what_it_missed_in_order_then_live_messages()
    {
        var (alice, bob, chatId) = await TwoUsersWithAChatAsync();
        await using var aliceSocket = await Server.ConnectAsync(alice);
        var bobInbox = new ReceivedMessages();
        var bobSocket = await Server.ConnectAsync(bob, bobInbox);
        await bobSocket.SyncAsync();
        await aliceSocket.SendAsync(chatId, "before", [0]);
        await bobInbox.WaitForCountAsync(chatId, 1, Wait);
        await bobSocket.DisposeAsync();

        for (var i = 1; i <= 30; i++) await aliceSocket.SendAsync(chatId, $"away{i}", [(byte)i]);

        await using var back = await Server.ConnectAsync(bob, bobInbox);
        var synced = await back.SyncAsync();
        Assert.Equal(30, synced.Messages);
        await aliceSocket.SendAsync(chatId, "live", [9]);
        await bobInbox.WaitForCountAsync(chatId, 32, Wait);
        Assert.Equal(Enumerable.Range(1, 32).Select(i => (long)i), bobInbox.Of(chatId).Select(m => m.Seq));
        Assert.Equal((0, 0), (bobInbox.Duplicates, bobInbox.OutOfOrder));
    }

    [Fact]
    public async Task A_sync_cursor_beyond_the_end_of_a_chat_does_not_hide_later_messages()
    {
        var (alice, bob, chatId) = await TwoUsersWithAChatAsync();
        await Server.Api.PostMessageAsync(alice.AccessToken, chatId, "one", [1]);
        await using var bobSocket = await Server.ConnectAsync(bob);

        await bobSocket.SyncAsync(new Dictionary<string, long> { [chatId] = 1000 });
        await Server.Api.PostMessageAsync(alice.AccessToken, chatId, "two", [2]);

        await bobSocket.NextAsync<MessageFrame>(m => m.Seq == 2);
    }

    [Fact]
    public async Task Each_sync_is_answered_with_its_own_synced_frame()
    {
        var (alice, _, chatId) = await TwoUsersWithAChatAsync();
        await Server.Api.PostMessageAsync(alice.AccessToken, chatId, "one", [1]);
        await using var socket = await Server.ConnectAsync(alice);

        for (var i = 0; i < 3; i++) await socket.SendRawAsync("{\"type\":\"sync\",\"cursors\":{}}");

        var first = await socket.NextAsync<SyncedFrame>();
        var second = await socket.NextAsync<SyncedFrame>();
        var third = await socket.NextAsync<SyncedFrame>();
        Assert.Equal((1, 1), (first.Chats, first.Messages));
        Assert.Equal((1, 1), (second.Chats, third.Chats));
    }

    [Fact]
    public async Task History_over_the_socket_pages_backwards()
    {
        var (alice, _, chatId) = await TwoUsersWithAChatAsync();
        await using var socket = await Server.ConnectAsync(alice);
        for (var i = 1; i <= 12; i++) await socket.SendAsync(chatId, $"h{i}", [(byte)i]);

        var newest = await socket.HistoryAsync(chatId, limit: 5);
        Assert.Equal([12L, 11, 10, 9, 8], newest.Messages.Select(m => m.Seq));
        Assert.True(newest.HasMore);
        var older = await socket.HistoryAsync(chatId, before: 8, limit: 50);
        Assert.Equal(Enumerable.Range(1, 7).Reverse().Select(i => (long)i), older.Messages.Select(m => m.Seq));
        Assert.False(older.HasMore);
    }
}

public sealed class SqliteChatOverWebSocketSpecs : ChatOverWebSocketSpecs
{
    protected override Task<Journal> JournalAsync() => Task.FromResult(Journal.Sqlite());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresChatOverWebSocketSpecs(PostgresFixture postgres) : ChatOverWebSocketSpecs
{
    protected override async Task<Journal> JournalAsync() => Journal.Postgres(await postgres.CreateDatabaseAsync());
}
