using System.Net.WebSockets;
using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// Presence from heartbeats and socket closes, last seen across a restart, privacy settings, and typing
/// frames, over real WebSockets. The heartbeat spec runs with 1 s heartbeats and a 5 s idle timeout; the
/// others keep the defaults, so a loaded machine's pauses cannot close their sockets.
/// </summary>
public sealed class PresenceAndTypingSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly Dictionary<string, string?> FastHeartbeats = new()
    {
        ["Natter:Edge:HeartbeatSeconds"] = "1",
        ["Natter:Edge:IdleTimeoutSeconds"] = "5",
    };

    private readonly string _data = TempDirectory.Create("natter-presence");
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite(), _data);

    public async Task DisposeAsync()
    {
        try { await _server.DisposeAsync(); }
        finally { TempDirectory.Delete(_data); }
    }

    private async Task<(DeviceSession Alice, DeviceSession Bob, string ChatId)> ContactsAsync()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var chat = await _server.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId);
        return (alice, bob, chat.ChatId);
    }

    private static Task<PresenceFrame> PushedPresenceAsync(NatterConnection c, string userId, bool online, TimeSpan? timeout = null) =>
        c.NextAsync<PresenceFrame>(p => p.Rid is null && p.UserId == userId && p.Online == online, timeout ?? Wait);

    [Fact]
    public async Task Contacts_are_told_when_a_user_comes_online_and_when_their_socket_closes()
    {
        var (alice, bob, _) = await ContactsAsync();
        await using var bobSocket = await _server.ConnectAsync(bob);

        var aliceSocket = await _server.ConnectAsync(alice);
        await PushedPresenceAsync(bobSocket, alice.UserId, online: true);
        Assert.True((await bobSocket.PresenceAsync("+" + alice.UserId)).Online);

        var before = DateTimeOffset.UtcNow;
        await aliceSocket.CloseAsync();
        var offline = await PushedPresenceAsync(bobSocket, alice.UserId, online: false);
        Assert.NotNull(offline.LastSeen);
        Assert.InRange(offline.LastSeen!.Value, before.AddSeconds(-3), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public async Task A_connection_that_misses_its_heartbeats_is_closed_with_4002_and_counts_as_offline()
    {
        await _server.DisposeAsync();
        _server = await InProcessServer.StartAsync(Journal.Sqlite(), _data, FastHeartbeats);
        var (alice, bob, _) = await ContactsAsync();
        await using var bobSocket = await _server.ConnectAsync(bob);
        var silent = await NatterConnection.ConnectAsync(_server.BaseAddress, alice.AccessToken, heartbeat: false);
        await PushedPresenceAsync(bobSocket, alice.UserId, online: true);

        await silent.Closed.WaitAsync(Wait);
        Assert.Equal((WebSocketCloseStatus)CloseCodes.HeartbeatMissed, silent.CloseStatus);
        await PushedPresenceAsync(bobSocket, alice.UserId, online: false);

        // A client that pings stays connected past the timeout.
        await using var pinging = await _server.ConnectAsync(alice);
        await Task.Delay(TimeSpan.FromSeconds(7));
        Assert.Null(pinging.CloseStatus);
    }

    [Fact]
    public async Task Last_seen_survives_a_restart()
    {
        var (alice, bob, _) = await ContactsAsync();
        var aliceSocket = await _server.ConnectAsync(alice);
        await aliceSocket.SyncAsync();
        await aliceSocket.CloseAsync();
        var seen = (await Eventually.UntilAsync(() => _server.Api.GetPresenceAsync(bob.AccessToken, "+" + alice.UserId),
            v => !v.Online && v.LastSeen is not null, Wait, "last seen recorded")).LastSeen;

        await _server.DisposeAsync();
        _server = await InProcessServer.StartAsync(Journal.Sqlite(), _data);

        var after = await _server.Api.GetPresenceAsync(bob.AccessToken, "+" + alice.UserId);
        Assert.False(after.Online);
        Assert.Equal(seen, after.LastSeen);
    }

    [Fact]
    public async Task Privacy_settings_decide_who_sees_presence_and_who_is_told()
    {
        var (alice, bob, _) = await ContactsAsync();
        var stranger = await _server.RegisterAsync();

        await _server.Api.PutSettingsAsync(alice.AccessToken, lastSeen: "contacts");
        Assert.True((await _server.Api.GetPresenceAsync(bob.AccessToken, "+" + alice.UserId)).Visible);
        var hidden = await _server.Api.GetPresenceAsync(stranger.AccessToken, "+" + alice.UserId);
        Assert.Equal((false, false, (DateTimeOffset?)null), (hidden.Visible, hidden.Online, hidden.LastSeen));

        await _server.Api.PutSettingsAsync(alice.AccessToken, lastSeen: "nobody");
        await using var bobSocket = await _server.ConnectAsync(bob);
        await using var aliceSocket = await _server.ConnectAsync(alice);
        Assert.False((await bobSocket.PresenceAsync("+" + alice.UserId)).Visible);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PushedPresenceAsync(bobSocket, alice.UserId, online: true, TimeSpan.FromSeconds(2)));
        // Everyone (the default) again: strangers see it too.
        await _server.Api.PutSettingsAsync(alice.AccessToken, lastSeen: "everyone");
        Assert.True((await _server.Api.GetPresenceAsync(stranger.AccessToken, "+" + alice.UserId)).Online);
        Assert.Equal("everyone", (await _server.Api.GetSettingsAsync(alice.AccessToken)).LastSeen);
    }

    [Fact]
    public async Task Typing_reaches_the_other_members_online_devices_only_and_is_rate_limited()
    {
        var (alice, bob, chatId) = await ContactsAsync();
        await using var aliceSocket = await _server.ConnectAsync(alice);
        await using var bobSocket = await _server.ConnectAsync(bob);

        await aliceSocket.TypingAsync(chatId);
        var typing = await bobSocket.NextAsync<TypingNoticeFrame>(timeout: Wait);
        Assert.Equal((chatId, alice.UserId, "typing"), (typing.ChatId, typing.UserId, typing.State));
        await aliceSocket.TypingAsync(chatId, typing: false);
        Assert.Equal("paused", (await bobSocket.NextAsync<TypingNoticeFrame>(timeout: Wait)).State);

        // Never stored: a device that connects later gets the messages, not the typing.
        await aliceSocket.SendAsync(chatId, "m1", [1]);
        await using var bobLaptop = await _server.ConnectAsync(await _server.LinkDeviceAsync(bob, "laptop"));
        var synced = await bobLaptop.SyncAsync();
        Assert.Single(bobLaptop.Received.Of(chatId));
        // The summary of what arrived while away.
        Assert.Equal(new ChatCatchUp(chatId, 1, 1), Assert.Single(synced.Summary!));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bobLaptop.NextAsync<TypingNoticeFrame>(timeout: TimeSpan.FromMilliseconds(500)));

        // A burst beyond the limit is refused, on that connection only.
        for (var i = 0; i < 8; i++) await aliceSocket.TypingAsync(chatId);
        var limited = await aliceSocket.NextAsync<ErrorFrame>(e => e.Code == ErrorCodes.RateLimited, Wait);
        Assert.Equal(chatId, limited.Ref);
        // Someone else's chat: not a member.
        await aliceSocket.TypingAsync("d.15550009991.15550009992");
        Assert.Equal(ErrorCodes.NotMember, (await aliceSocket.NextAsync<ErrorFrame>(e => e.Code != ErrorCodes.RateLimited, Wait)).Code);
    }
}
