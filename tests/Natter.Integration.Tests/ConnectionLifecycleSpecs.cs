using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Natter.Client;
using Natter.Cluster.Edge.Auth;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>How the server ends connections: slow consumers, expiring tokens, a device connecting twice.</summary>
public sealed class ConnectionLifecycleSpecs : IAsyncLifetime
{
    private InProcessServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await InProcessServer.StartAsync(Journal.Sqlite(), overrides: new Dictionary<string, string?>
        {
            ["Natter:Edge:OutboundQueueFrames"] = "16",
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_client_that_stops_reading_is_disconnected_with_4008_and_catches_up_by_syncing()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var chatId = (await _server.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId)).ChatId;

        // Bob's socket is open but never read: the kernel buffers fill, then his bounded queue.
        using var stalled = new ClientWebSocket();
        stalled.Options.SetRequestHeader("Authorization", $"Bearer {bob.AccessToken}");
        await stalled.ConnectAsync(new UriBuilder(_server.BaseAddress) { Scheme = "ws", Path = "/ws" }.Uri, CancellationToken.None);
        var body = new byte[60 * 1024];
        const int count = 200;
        for (var i = 1; i <= count; i++) await _server.Api.PostMessageAsync(alice.AccessToken, chatId, $"flood-{i}", body);

        var closeStatus = await ReadUntilClosedAsync(stalled);
        Assert.Equal(CloseCodes.SlowConsumer, (int)closeStatus!);

        // Nothing is lost: the durable log has it all, and a sync delivers it.
        await using var back = await _server.ConnectAsync(bob);
        var synced = await back.SyncAsync();
        Assert.Equal(count, synced.Messages);
        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), back.Received.Of(chatId).Select(m => m.Seq));
    }

    [Fact]
    public async Task A_connection_is_closed_with_4001_when_its_token_expires()
    {
        var alice = await _server.RegisterAsync();
        var tokens = _server.Services.GetRequiredService<AccessTokens>();
        var (shortLived, _) = tokens.Issue(new UserId(alice.UserId), new DeviceId(alice.DeviceId), TimeSpan.FromSeconds(5));

        await using var socket = await NatterConnection.ConnectAsync(_server.BaseAddress, shortLived);
        await socket.Closed.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(CloseCodes.TokenExpired, (int)socket.CloseStatus!);
    }

    [Fact]
    public async Task A_device_that_connects_again_replaces_its_previous_connection_with_4009()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var chatId = (await _server.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId)).ChatId;
        await using var first = await _server.ConnectAsync(bob);

        await using var second = await _server.ConnectAsync(bob);
        await first.Closed.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(CloseCodes.SessionReplaced, (int)first.CloseStatus!);

        // The new connection is the one that receives.
        await second.SyncAsync();
        await _server.Api.PostMessageAsync(alice.AccessToken, chatId, "to-second", [1]);
        await second.Received.WaitForCountAsync(chatId, 1, TimeSpan.FromSeconds(20));
    }

    private static async Task<WebSocketCloseStatus?> ReadUntilClosedAsync(ClientWebSocket socket)
    {
        var buffer = new byte[128 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close) return result.CloseStatus;
            }
        }
        catch (WebSocketException)
        {
            return socket.CloseStatus;
        }
    }
}
