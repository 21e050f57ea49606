using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// The C# client's sync cursors (ReceivedMessages.Cursors): the highest seq below which nothing is missing. A seq the
/// server's catch-up skipped (missing from the chat's log, protocol §6.3, or before this user joined a group) is not
/// missing once a sync from the client's own cursor has pushed past it; otherwise every later sync would ask for it
/// again. The server's frames are scripted.
/// </summary>
public sealed class ClientSyncCursorSpecs : IAsyncLifetime
{
    private const string Chat = "d.15550000001.15550000002";
    private const string Unnamed = "d.15550000001.15550000003";
    private ScriptedSocketServer _server = null!;
    private NatterConnection _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ScriptedSocketServer.StartAsync();
        _client = await NatterConnection.ConnectAsync(_server.BaseAddress, "any-token");
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static string Message(string chat, long seq) =>
        $$"""{"type":"message","chatId":"{{chat}}","seq":{{seq}},"sender":"15550000002","senderDevice":1,"clientMsgId":"m{{seq}}","body":"AQ==","ts":"2026-12-07T08:00:00+00:00","sealed":false}""";

    [Fact]
    public async Task A_sync_that_pushed_past_a_seq_that_never_came_moves_the_cursor_past_it()
    {
        foreach (var seq in new long[] { 1, 2, 4 }) await _server.SendAsync(Message(Chat, seq));
        await _client.Received.WaitForCountAsync(Chat, 3, TimeSpan.FromSeconds(10));
        Assert.Equal(2, _client.Received.Cursors()[Chat]);

        var sync = _client.SyncAsync();
        var asked = await _server.NextFromClientAsync();
        Assert.Equal(2, asked.GetProperty("cursors").GetProperty(Chat).GetInt64());
        // The catch-up: 4 again (seq 3 is not in the log), and a chat the client did not name, from seq 8 on.
        await _server.SendAsync(Message(Chat, 4));
        await _server.SendAsync(Message(Unnamed, 8));
        await _server.SendAsync($$"""{"type":"synced","chats":2,"messages":2,"summary":[{"chatId":"{{Chat}}","count":1,"lastSeq":4},{"chatId":"{{Unnamed}}","count":1,"lastSeq":8}]}""");
        await sync;

        var cursors = _client.Received.Cursors();
        Assert.Equal(4, cursors[Chat]);
        // Not named, so the catch-up started where the server chose: what lies below 8 is not known to be absent.
        Assert.Equal(0, cursors[Unnamed]);

        await _server.SendAsync(Message(Chat, 5));
        await _client.Received.WaitForCountAsync(Chat, 4, TimeSpan.FromSeconds(10));
        Assert.Equal(5, _client.Received.Cursors()[Chat]);
    }

    [Fact]
    public async Task A_second_sync_while_one_runs_is_refused_since_one_synced_answers_one_sync()
    {
        var first = _client.SyncAsync();
        await _server.NextFromClientAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.SyncAsync());
        await _server.SendAsync("""{"type":"synced","chats":0,"messages":0,"summary":[]}""");
        await first;
    }

    [Fact]
    public async Task A_sync_from_cursors_the_caller_chose_moves_nothing()
    {
        foreach (var seq in new long[] { 1, 4 }) await _server.SendAsync(Message(Chat, seq));
        await _client.Received.WaitForCountAsync(Chat, 2, TimeSpan.FromSeconds(10));

        var sync = _client.SyncAsync(new Dictionary<string, long> { [Chat] = 3 });
        await _server.NextFromClientAsync();
        await _server.SendAsync(Message(Chat, 4));
        await _server.SendAsync($$"""{"type":"synced","chats":1,"messages":1,"summary":[{"chatId":"{{Chat}}","count":1,"lastSeq":4}]}""");
        await sync;

        Assert.Equal(1, _client.Received.Cursors()[Chat]);
    }
}
