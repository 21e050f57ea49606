using System.Text;
using Natter.Client.Secure;
using Natter.Integration.Tests.Infrastructure;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>An app that saves its device and restores it at the next start carries on as the same device.</summary>
public sealed class SavedDeviceSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite());

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_device_restored_after_the_app_restarts_keeps_its_identity_sessions_and_history()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var chatId = (await _server.Api.OpenChatAsync(alice.Session.AccessToken, "+" + bob.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bob.Session.UserId];
        await alice.Secure.SendAsync(alice.Socket, chatId, members, "a0", "alice 0"u8.ToArray());
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "b0", "bob 0"u8.ToArray());
        await alice.Socket.Received.WaitForCountAsync(chatId, 1, Wait);
        await alice.Secure.OpenAsync(alice.Socket.Received.Of(chatId)[0]);

        // The app stops; at its next start it restores the device instead of making a new one.
        var saved = alice.Secure.Export();
        await alice.Socket.DisposeAsync();
        var socket = await _server.ConnectAsync(alice.Session);
        await socket.SyncAsync();
        var restarted = new SecureTestDevice(alice.Session, SecureDevice.Restore(_server.Api, alice.Session, saved), socket, _server.Api);

        Assert.Equal(alice.Secure.Crypto.Keys.Identity.IdentityKey, restarted.Secure.Crypto.Keys.Identity.IdentityKey);
        Assert.Equal(["alice 0", "bob 0"], await restarted.HistoryAsync(chatId));
        // Both sessions go on: Bob's next message opens, and Alice's answer opens on Bob's side.
        var had = socket.Received.Of(chatId).Count;
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "b1", "bob 1"u8.ToArray());
        await socket.Received.WaitForCountAsync(chatId, had + 1, Wait);
        Assert.Equal("bob 1", Encoding.UTF8.GetString(await restarted.Secure.OpenAsync(socket.Received.Of(chatId)[^1])));
        await restarted.Secure.SendAsync(socket, chatId, members, "a1", "alice 1"u8.ToArray());
        await bob.Socket.Received.WaitForCountAsync(chatId, 2, Wait);
        Assert.Equal("alice 1", Encoding.UTF8.GetString(await bob.Secure.OpenAsync(bob.Socket.Received.Of(chatId)[^1])));

        // A saved device restores only as itself.
        Assert.Throws<ArgumentException>(() => SecureDevice.Restore(_server.Api, bob.Session, saved));
        Assert.Throws<ArgumentException>(() => SecureDevice.Restore(_server.Api, alice.Session, "not a device"u8.ToArray()));
    }
}
