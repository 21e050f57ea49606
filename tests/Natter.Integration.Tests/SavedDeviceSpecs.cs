using System.Text;
using Natter.Client.Secure;
using Natter.Integration.Tests.Infrastructure;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// An app that writes its device's state whenever the device says it changed, and restores the last one written at
/// its next start, carries on as the same device, even when it died between sealing a send and its ack.
/// </summary>
public sealed class SavedDeviceSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite());

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_device_restored_from_its_last_saved_state_keeps_its_identity_sessions_history_and_unacknowledged_send()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var chatId = (await _server.Api.OpenChatAsync(alice.Session.AccessToken, "+" + bob.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bob.Session.UserId];
        byte[]? lastWritten = null;
        alice.Secure.StateChanged = state => lastWritten = state;
        await alice.Secure.SendAsync(alice.Socket, chatId, members, "a0", "alice 0"u8.ToArray());
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "b0", "bob 0"u8.ToArray());
        await alice.Socket.Received.WaitForCountAsync(chatId, 1, Wait);
        await alice.Secure.OpenAsync(alice.Socket.Received.Of(chatId)[0]);

        // The app dies just after sealing "alice 1": the last state it wrote is the one from before the send left.
        var sealedOnly = (byte[]?)null;
        alice.Secure.StateChanged = state => sealedOnly ??= state;
        var firstAck = await alice.Secure.SendAsync(alice.Socket, chatId, members, "a1", "alice 1"u8.ToArray());
        Assert.NotNull(sealedOnly);
        Assert.NotNull(lastWritten);
        await alice.Socket.DisposeAsync();

        var socket = await _server.ConnectAsync(alice.Session);
        await socket.SyncAsync();
        var restarted = new SecureTestDevice(alice.Session, SecureDevice.Restore(_server.Api, alice.Session, sealedOnly!), socket, _server.Api);
        var bobPreKeys = (await _server.Api.GetKeysStatusAsync(bob.Session.AccessToken)).OneTimePreKeysLeft;

        Assert.Equal(alice.Secure.Crypto.Keys.Identity.IdentityKey, restarted.Secure.Crypto.Keys.Identity.IdentityKey);
        // Its next message uses the next message key, not the one "alice 1" was sealed with (Bob would refuse a reused one).
        await restarted.Secure.SendAsync(socket, chatId, members, "a2", "alice 2"u8.ToArray());
        await bob.Socket.Received.WaitForCountAsync(chatId, 4, Wait); // his own "bob 0", as acknowledged, among them
        var bobRead = new List<string>();
        foreach (var m in bob.Socket.Received.Of(chatId).Where(m => m.Sender == alice.Session.UserId)) bobRead.Add(Encoding.UTF8.GetString(await bob.Secure.OpenAsync(m)));
        Assert.Equal(["alice 0", "alice 1", "alice 2"], bobRead);
        // The send it never saw acknowledged goes again as the same message (its body was saved): stored once.
        var resent = await restarted.Secure.SendAsync(socket, chatId, members, "a1", "anything: the saved body is sent"u8.ToArray());
        Assert.Equal(firstAck.Seq, resent.Seq);
        Assert.Equal(["alice 0", "bob 0", "alice 1", "alice 2"], await restarted.HistoryAsync(chatId));
        // Bob's side of the session goes on too; no new session setup took one of Bob's one-time prekeys.
        var had = socket.Received.Of(chatId).Count;
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "b1", "bob 1"u8.ToArray());
        await socket.Received.WaitForCountAsync(chatId, had + 1, Wait);
        Assert.Equal("bob 1", Encoding.UTF8.GetString(await restarted.Secure.OpenAsync(socket.Received.Of(chatId)[^1])));
        Assert.Equal(bobPreKeys, (await _server.Api.GetKeysStatusAsync(bob.Session.AccessToken)).OneTimePreKeysLeft);

        // Sealing a history transfer and making one-time prekeys are saved too, before anything leaves.
        var laptop = await SecureTestDevice.LinkAsync(_server, alice, "laptop");
        var saves = 0;
        restarted.Secure.StateChanged = _ => saves++;
        await restarted.Secure.SendHistoryAsync(laptop.Session.DeviceId);
        Assert.True(saves > 0, "a history transfer was sealed without a save");
        saves = 0;
        await restarted.Secure.TopUpAsync(5);
        Assert.True(saves > 0, "one-time prekeys were published without a save");

        // A saved device restores only as itself.
        Assert.Throws<ArgumentException>(() => SecureDevice.Restore(_server.Api, bob.Session, sealedOnly!));
        Assert.Throws<ArgumentException>(() => SecureDevice.Restore(_server.Api, alice.Session, "not a device"u8.ToArray()));
    }

    [Fact]
    public async Task A_device_that_saves_content_keys_apart_keeps_a_state_that_does_not_grow_and_restores_from_both()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var chatId = (await _server.Api.OpenChatAsync(alice.Session.AccessToken, "+" + bob.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bob.Session.UserId];
        // The app's two stores: the latest state, and an append-only list of keys. The order of the writes is recorded.
        byte[]? state = null;
        var keys = new List<SavedContentKey>();
        var writes = new List<string>();
        alice.Secure.ContentKeysAdded = added => { keys.AddRange(added); writes.Add("keys"); };
        alice.Secure.StateChanged = saved => { state = saved; writes.Add("state"); };

        var sizes = new List<int>();
        for (var i = 0; i < 20; i++)
        {
            await alice.Secure.SendAsync(alice.Socket, chatId, members, $"a{i}", Encoding.UTF8.GetBytes($"alice {i}"));
            sizes.Add(state!.Length);
        }
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "b0", "bob 0"u8.ToArray());
        var fromBob = await Eventually.UntilAsync(() => Task.FromResult(alice.Socket.Received.Of(chatId).SingleOrDefault(m => m.ClientMsgId == "b0")),
            m => m is not null, Wait, "bob's message");
        await alice.Secure.OpenAsync(fromBob!);

        // Every key kept, each once, and each before the state written after it.
        Assert.Equal(21, keys.Count);
        Assert.Equal(21, keys.Select(k => k.Seq).Distinct().Count());
        Assert.All(writes.Select((w, i) => (w, i)).Where(x => x.w == "keys"), x => Assert.Equal("state", writes[x.i + 1]));
        // The state carries no keys: the twentieth is no bigger than the second (a session's chain keys vary by bytes).
        Assert.InRange(sizes[^1], 0, sizes[1] + 64);

        // Restored from both: the same history; from the state alone, refused.
        var socket = await _server.ConnectAsync(alice.Session);
        await socket.SyncAsync();
        var restarted = new SecureTestDevice(alice.Session, SecureDevice.Restore(_server.Api, alice.Session, state!, keys), socket, _server.Api);
        Assert.Equal(["alice 0", "alice 1"], (await restarted.HistoryAsync(chatId)).Take(2));
        Assert.Equal(21, (await restarted.HistoryAsync(chatId)).Count);
        // The state says its keys were saved apart: restored without them, it is refused rather than read no history.
        Assert.Throws<ArgumentException>(() => SecureDevice.Restore(_server.Api, alice.Session, state!));

        // A device restored from a whole state, then told to store keys apart, hands over every key it holds first.
        async Task<Natter.Messages.Protocol.MessageFrame> FromBobAsync(string clientMsgId)
        {
            await bob.Secure.SendAsync(bob.Socket, chatId, members, clientMsgId, Encoding.UTF8.GetBytes(clientMsgId));
            return (await Eventually.UntilAsync(() => Task.FromResult(socket.Received.Of(chatId).SingleOrDefault(m => m.ClientMsgId == clientMsgId)),
                m => m is not null, Wait, clientMsgId))!;
        }
        var whole = SecureDevice.Restore(_server.Api, alice.Session, restarted.Secure.Export());
        var moved = new List<SavedContentKey>();
        byte[]? core = null;
        whole.ContentKeysAdded = added => moved.AddRange(added);
        whole.StateChanged = saved => core = saved;
        await whole.OpenAsync(await FromBobAsync("b1"));
        Assert.Equal(22, moved.Select(k => k.Seq).Distinct().Count());
        Assert.Equal(22, (await new SecureTestDevice(alice.Session, SecureDevice.Restore(_server.Api, alice.Session, core!, moved), socket, _server.Api)
            .HistoryAsync(chatId)).Count);

        // A store that failed to take a batch gets it again at the next save.
        var failing = SecureDevice.Restore(_server.Api, alice.Session, core!, moved);
        var taken = new List<SavedContentKey>();
        var fail = true;
        failing.ContentKeysAdded = added =>
        {
            if (fail) { fail = false; throw new IOException("the store is full"); }
            taken.AddRange(added);
        };
        failing.StateChanged = _ => { };
        var b2 = await FromBobAsync("b2");
        await Assert.ThrowsAsync<IOException>(() => failing.OpenAsync(b2));
        var b3 = await FromBobAsync("b3");
        await failing.OpenAsync(b3);
        Assert.Equal([b2.Seq, b3.Seq], taken.Select(k => k.Seq).Order());
    }
}
