using System.Net.WebSockets;
using System.Text;
using Natter.Client;
using Natter.Client.Crypto;
using Natter.Client.Secure;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// End-to-end encryption across several devices over real WebSockets, with the SDK's real crypto: every
/// device reads the same history, a device linked later reads the earlier history through a history
/// transfer, a removed device gets nothing more, and a stale device list is refused with the difference.
/// </summary>
public sealed class EndToEndEncryptionSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite());

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Every_device_reads_the_same_history_and_a_device_linked_later_reads_it_after_a_history_transfer()
    {
        var alicePhone = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var aliceLaptop = await SecureTestDevice.LinkAsync(_server, alicePhone, "laptop");
        var aliceTablet = await SecureTestDevice.LinkAsync(_server, alicePhone, "tablet");
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var chatId = (await _server.Api.OpenChatAsync(alicePhone.Session.AccessToken, "+" + bob.Session.UserId)).ChatId;
        string[] members = [alicePhone.Session.UserId, bob.Session.UserId];

        var sent = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            sent.Add($"from alice's phone {i}");
            await alicePhone.Secure.SendAsync(alicePhone.Socket, chatId, members, $"a{i}", Encoding.UTF8.GetBytes(sent[^1]));
            sent.Add($"from bob {i}");
            await bob.Secure.SendAsync(bob.Socket, chatId, members, $"b{i}", Encoding.UTF8.GetBytes(sent[^1]));
        }

        // Live: each device got its own envelope and opens every message, in the order sent.
        await aliceTablet.Socket.Received.WaitForCountAsync(chatId, sent.Count, Wait);
        var live = new List<string>();
        foreach (var m in aliceTablet.Socket.Received.Of(chatId)) live.Add(Encoding.UTF8.GetString(await aliceTablet.Secure.OpenAsync(m)));
        Assert.Equal(sent, live);
        // History: the same on all three of alice's devices and on bob's.
        foreach (var device in new[] { alicePhone, aliceLaptop, aliceTablet, bob })
            Assert.Equal(sent, await device.HistoryAsync(chatId));

        // A fourth device linked later has no envelope for the earlier messages: it gets their keys from the phone.
        var desktop = await SecureTestDevice.LinkAsync(_server, alicePhone, "desktop");
        await Assert.ThrowsAnyAsync<Exception>(() => desktop.HistoryAsync(chatId));
        Assert.Equal(sent.Count, await alicePhone.Secure.SendHistoryAsync(desktop.Session.DeviceId));
        await desktop.Socket.NextAsync<DeviceMessageFrame>(timeout: Wait);
        Assert.Equal(sent.Count, await desktop.Secure.ReceiveHistoryAsync());
        Assert.Equal(sent, await desktop.HistoryAsync(chatId));
        Assert.Empty(await _server.Api.GetDeviceMessagesAsync(desktop.Session.AccessToken));

        // A removed device receives nothing further; the next send seals for the devices left.
        await _server.Api.RemoveDeviceAsync(alicePhone.Session.AccessToken, aliceTablet.Session.DeviceId);
        await aliceTablet.Socket.Closed.WaitAsync(Wait);
        Assert.Equal((WebSocketCloseStatus)CloseCodes.DeviceRemoved, aliceTablet.Socket.CloseStatus);
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "after-removal", Encoding.UTF8.GetBytes("after the tablet left"));
        await desktop.Socket.Received.WaitForCountAsync(chatId, sent.Count + 1, Wait);
        var last = desktop.Socket.Received.Of(chatId)[^1];
        Assert.Equal("after the tablet left", Encoding.UTF8.GetString(await desktop.Secure.OpenAsync(last)));
        Assert.Equal(sent.Count, aliceTablet.Socket.Received.Of(chatId).Count);
        Assert.Equal(ErrorCodes.Unauthorized,
            (await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.GetMessagesAsync(aliceTablet.Session.AccessToken, chatId))).Code);
    }

    [Fact]
    public async Task A_send_with_a_stale_device_list_is_refused_with_the_difference_and_succeeds_once_refreshed()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var chatId = (await _server.Api.OpenChatAsync(alice.Session.AccessToken, "+" + bob.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bob.Session.UserId];
        await alice.Secure.SendAsync(alice.Socket, chatId, members, "m1", "hello"u8.ToArray());

        // Bob links a laptop; alice's device list is now one device short.
        var bobLaptop = await SecureTestDevice.LinkAsync(_server, bob, "laptop");
        var bobPhone = new DeviceRef(bob.Session.UserId, bob.Session.DeviceId);
        var stale = await Assert.ThrowsAsync<NatterApiException>(() => alice.Socket.SendAsync(chatId, "raw", [1, 2, 3],
            envelopes: [new EnvelopeFrame(bobPhone.UserId, bobPhone.DeviceId, [9]), new EnvelopeFrame(bob.Session.UserId, 42, [9])]));
        Assert.Equal(ErrorCodes.StaleDevices, stale.Code);
        Assert.Equal([new DeviceRef(bob.Session.UserId, bobLaptop.Session.DeviceId)], stale.Missing);
        Assert.Equal([new DeviceRef(bob.Session.UserId, 42)], stale.Extra);
        // Over REST: 409 with the same difference.
        var rest = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.PostMessageAsync(alice.Session.AccessToken, chatId, "raw-rest", [1],
            envelopes: [new EnvelopeFrame(bobPhone.UserId, bobPhone.DeviceId, [9])]));
        Assert.Equal((ErrorCodes.StaleDevices, (int?)409), (rest.Code, rest.HttpStatus));
        Assert.Equal([new DeviceRef(bob.Session.UserId, bobLaptop.Session.DeviceId)], rest.Missing);

        // The SDK corrects its list from the refusal and seals again: both of bob's devices read it.
        await alice.Secure.SendAsync(alice.Socket, chatId, members, "m2", "for both of bob's devices"u8.ToArray());
        foreach (var device in new[] { bob, bobLaptop })
        {
            await device.Socket.Received.WaitForCountAsync(chatId, 2, Wait);
            Assert.Equal("for both of bob's devices", Encoding.UTF8.GetString(await device.Secure.OpenAsync(device.Socket.Received.Of(chatId)[^1])));
        }
    }

    [Fact]
    public async Task A_server_that_requires_sealed_sends_refuses_an_unencrypted_one_on_both_paths()
    {
        await _server.DisposeAsync();
        _server = await InProcessServer.StartAsync(Journal.Sqlite(), overrides: new Dictionary<string, string?>
        {
            ["Natter:Edge:RequireSealedSends"] = "true",
        });
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var chatId = (await _server.Api.OpenChatAsync(alice.Session.AccessToken, "+" + bob.Session.UserId)).ChatId;

        var socket = await Assert.ThrowsAsync<NatterApiException>(() => alice.Socket.SendAsync(chatId, "plain", "in the clear"u8.ToArray()));
        Assert.Equal(ErrorCodes.SealedSendRequired, socket.Code);
        var rest = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.PostMessageAsync(alice.Session.AccessToken, chatId, "plain-rest", [1]));
        Assert.Equal((ErrorCodes.SealedSendRequired, (int?)400), (rest.Code, rest.HttpStatus));

        await alice.Secure.SendAsync(alice.Socket, chatId, [alice.Session.UserId, bob.Session.UserId], "sealed", "sealed"u8.ToArray());
        await bob.Socket.Received.WaitForCountAsync(chatId, 1, Wait);
        Assert.Equal("sealed", Encoding.UTF8.GetString(await bob.Secure.OpenAsync(Assert.Single(bob.Socket.Received.Of(chatId)))));
    }

    [Fact]
    public async Task Contacts_are_told_when_a_device_s_identity_key_changes_and_the_safety_number_changes_with_it()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var chatId = (await _server.Api.OpenChatAsync(alice.Session.AccessToken, "+" + bob.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bob.Session.UserId];
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "before", "before the reinstall"u8.ToArray());

        async Task<string> SafetyNumberAsync(SecureTestDevice viewer, DeviceSession other)
        {
            var mine = (await _server.Api.GetDeviceIdentitiesAsync(viewer.Session.AccessToken, "+" + viewer.Session.UserId)).Devices[0].IdentityKey;
            var theirs = (await _server.Api.GetDeviceIdentitiesAsync(viewer.Session.AccessToken, "+" + other.UserId)).Devices[0].IdentityKey;
            return SafetyNumber.Compute(viewer.Session.UserId, mine, other.UserId, theirs);
        }
        var before = await SafetyNumberAsync(bob, alice.Session);
        Assert.Equal(before, await SafetyNumberAsync(alice, bob.Session));
        Assert.Equal(60, before.Length);

        // Alice's app is reinstalled on the same device: new keys under the same device id.
        var reinstalled = await SecureDevice.CreateAsync(_server.Api, alice.Session);
        var changed = await bob.Socket.NextAsync<IdentityChangedFrame>(timeout: Wait);
        Assert.Equal((alice.Session.UserId, alice.Session.DeviceId), (changed.UserId, changed.DeviceId));
        await bob.Socket.NextAsync<DevicesChangedFrame>(d => d.UserId == alice.Session.UserId, Wait);
        Assert.NotEqual(before, await SafetyNumberAsync(bob, alice.Session));

        // Bob drops the old sessions and seals the next message for the new keys.
        bob.Secure.OnIdentityChanged(changed);
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "after", "after the reinstall"u8.ToArray());
        await alice.Socket.Received.WaitForCountAsync(chatId, 2, Wait);
        Assert.Equal("after the reinstall", Encoding.UTF8.GetString(await reinstalled.OpenAsync(alice.Socket.Received.Of(chatId)[^1])));
    }

    [Fact]
    public async Task Fellow_group_members_without_a_direct_chat_are_told_of_an_identity_change_and_their_next_message_opens()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var carol = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var groupId = (await _server.Api.GroupAsync(alice.Session.AccessToken, "create", name: "Book club", userId: "+" + carol.Session.UserId)).GroupId;
        string[] members = [alice.Session.UserId, carol.Session.UserId];
        await carol.Secure.SendAsync(carol.Socket, groupId, members, "before", "before the reinstall"u8.ToArray());

        // Alice reinstalls; Carol shares only the group with her.
        var reinstalled = await SecureDevice.CreateAsync(_server.Api, alice.Session);
        var changed = await carol.Socket.NextAsync<IdentityChangedFrame>(timeout: Wait);
        Assert.Equal((alice.Session.UserId, alice.Session.DeviceId), (changed.UserId, changed.DeviceId));

        carol.Secure.OnIdentityChanged(changed);
        await carol.Secure.SendAsync(carol.Socket, groupId, members, "after", "after the reinstall"u8.ToArray());
        var after = await Eventually.UntilAsync(() => Task.FromResult(alice.Socket.Received.Of(groupId).SingleOrDefault(m => m.ClientMsgId == "after")),
            m => m is not null, Wait, "the message after the reinstall");
        Assert.Equal("after the reinstall", Encoding.UTF8.GetString(await reinstalled.OpenAsync(after!)));
    }

    [Fact]
    public async Task A_device_that_missed_a_contact_s_reinstall_is_refused_with_the_changed_device_and_its_next_message_opens()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var chatId = (await _server.Api.OpenChatAsync(alice.Session.AccessToken, "+" + bob.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bob.Session.UserId];
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "before", "before the reinstall"u8.ToArray());
        var oldKeys = (await _server.Api.GetDeviceIdentitiesAsync(bob.Session.AccessToken, "+" + alice.Session.UserId)).Devices[0].IdentityKey;

        // Alice reinstalls while Bob's device is away: it never acts on the identity_changed notice.
        var reinstalled = await SecureDevice.CreateAsync(_server.Api, alice.Session);
        var alicePhone = new DeviceRef(alice.Session.UserId, alice.Session.DeviceId);

        // Sealed for the old identity, on either path: refused, naming the device; without a tag, not checked.
        var socket = await Assert.ThrowsAsync<NatterApiException>(() => bob.Socket.SendAsync(chatId, "raw", [1],
            envelopes: [new EnvelopeFrame(alicePhone.UserId, alicePhone.DeviceId, [9], IdentityTags.Of(oldKeys))]));
        Assert.Equal(ErrorCodes.StaleDevices, socket.Code);
        Assert.Equal([alicePhone], socket.Changed);
        Assert.Empty(socket.Missing.Concat(socket.Extra));
        var rest = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.PostMessageAsync(bob.Session.AccessToken, chatId, "raw-rest", [1],
            envelopes: [new EnvelopeFrame(alicePhone.UserId, alicePhone.DeviceId, [9], IdentityTags.Of(oldKeys))]));
        Assert.Equal((ErrorCodes.StaleDevices, (int?)409), (rest.Code, rest.HttpStatus));
        Assert.Equal([alicePhone], rest.Changed);
        await bob.Socket.SendAsync(chatId, "untagged", [1], envelopes: [new EnvelopeFrame(alicePhone.UserId, alicePhone.DeviceId, [9])]);

        // The SDK drops its session with the reinstalled device on that refusal and seals for the new keys.
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "after", "after the reinstall"u8.ToArray());
        var after = await Eventually.UntilAsync(() => Task.FromResult(alice.Socket.Received.Of(chatId).SingleOrDefault(m => m.ClientMsgId == "after")),
            m => m is not null, Wait, "the message after the reinstall");
        Assert.Equal("after the reinstall", Encoding.UTF8.GetString(await reinstalled.OpenAsync(after!)));
    }

    [Fact]
    public async Task A_device_that_missed_a_contact_s_reinstall_opens_the_first_message_from_the_new_install()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var chatId = (await _server.Api.OpenChatAsync(alice.Session.AccessToken, "+" + bob.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bob.Session.UserId];
        await alice.Secure.SendAsync(alice.Socket, chatId, members, "before", "before the reinstall"u8.ToArray());
        await alice.Secure.SendAsync(alice.Socket, chatId, members, "late", "read only after the reinstall"u8.ToArray());
        await bob.Socket.Received.WaitForCountAsync(chatId, 2, Wait);
        Assert.Equal("before the reinstall", Encoding.UTF8.GetString(await bob.Secure.OpenAsync(bob.Socket.Received.Of(chatId)[0])));

        // Alice reinstalls and writes first; Bob's device never acted on identity_changed and still holds her old identity.
        var reinstalled = await SecureDevice.CreateAsync(_server.Api, alice.Session);
        await reinstalled.SendAsync(alice.Socket, chatId, members, "after", "from the new install"u8.ToArray());
        await reinstalled.SendAsync(alice.Socket, chatId, members, "after-2", "again from the new install"u8.ToArray());

        var told = new System.Collections.Concurrent.ConcurrentQueue<IdentityChangedFrame>();
        bob.Secure.IdentityChanged = told.Enqueue;
        await bob.Socket.Received.WaitForCountAsync(chatId, 4, Wait);
        var fromNewInstall = bob.Socket.Received.Of(chatId).Where(m => m.ClientMsgId.StartsWith("after")).OrderBy(m => m.Seq).ToList();
        // Both opened at once: each opens, and the app hears of the new identity once (to show that the safety number
        // changed); a message of the old install not opened before still opens.
        var opened = await Task.WhenAll(fromNewInstall.Select(m => bob.Secure.OpenAsync(m)));
        Assert.Equal(["from the new install", "again from the new install"], opened.Select(Encoding.UTF8.GetString).ToArray());
        Assert.Equal([new IdentityChangedFrame(alice.Session.UserId, alice.Session.DeviceId)], told.ToArray());
        Assert.Equal("read only after the reinstall", Encoding.UTF8.GetString(await bob.Secure.OpenAsync(bob.Socket.Received.Of(chatId)[1])));
    }
}
