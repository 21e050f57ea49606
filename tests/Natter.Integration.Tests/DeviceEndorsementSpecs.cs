using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Natter.Client;
using Natter.Client.Crypto;
using Natter.Client.Secure;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;
using static Natter.Integration.Tests.Infrastructure.LyingDirectory;

namespace Natter.Integration.Tests;

/// <summary>
/// Which devices belong to an account (docs/e2ee.md §7): a linked device is sealed for only with the primary's
/// endorsement of the identity key its link code showed. The server refuses keys nobody endorsed; the SDK refuses a
/// directory that lists one anyway, and an account key that did not come from the device that scanned the code.
/// The lying directory is a real server behind an HTTP handler that rewrites its answers.
/// </summary>
public sealed class DeviceEndorsementSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite());

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_device_linked_with_the_primary_s_endorsement_is_listed_with_it_sealed_for_and_believed()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var laptop = await SecureTestDevice.LinkAsync(_server, alice, "laptop");
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());

        var listed = (await _server.Api.GetDeviceIdentitiesAsync(bob.Session.AccessToken, "+" + alice.Session.UserId)).Devices;
        var primary = Assert.Single(listed, d => d.Primary);
        Assert.Equal((alice.Session.DeviceId, (byte[]?)null), (primary.DeviceId, primary.AccountSignature));
        var linked = Assert.Single(listed, d => !d.Primary);
        Assert.Equal(laptop.Session.DeviceId, linked.DeviceId);
        Assert.True(KeySignatures.VerifyDevice(primary.IdentityKey, alice.Session.UserId, linked.IdentityKey, linked.AccountSignature!));
        var bundles = (await _server.Api.GetBundlesAsync(bob.Session.AccessToken, "+" + alice.Session.UserId)).Devices;
        Assert.Equal(linked.AccountSignature, bundles.Single(b => b.DeviceId == laptop.Session.DeviceId).AccountSignature);

        var chatId = (await _server.Api.OpenChatAsync(bob.Session.AccessToken, "+" + alice.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bob.Session.UserId];
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "b1", "to both of alice's devices"u8.ToArray());
        await laptop.Secure.SendAsync(laptop.Socket, chatId, members, "l1", "from alice's laptop"u8.ToArray());
        Assert.Equal(["to both of alice's devices", "from alice's laptop"], await laptop.HistoryAsync(chatId));
        Assert.Equal(["to both of alice's devices", "from alice's laptop"], await alice.HistoryAsync(chatId));
        Assert.Equal(["to both of alice's devices", "from alice's laptop"], await bob.HistoryAsync(chatId));
    }

    [Fact]
    public async Task Keys_nobody_endorsed_are_refused_and_an_endorsement_must_be_the_primary_s_signature_of_the_key()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var phone = "+" + alice.Session.UserId;

        // Approved the way a client that does not encrypt approves: the device is on the account, but keyless for good.
        var plainLinking = await DeviceLinking.RequestAsync(_server.Api, phone, "plain");
        var plainCode = DeviceLinkCode.Parse(plainLinking.LinkCode);
        await _server.Api.ApproveLinkAsync(alice.Session.AccessToken, plainCode.LinkId, plainCode.ApprovalCode);
        var refused = await Assert.ThrowsAsync<UntrustedIdentityException>(() => plainLinking.TryCompleteAsync());
        Assert.Contains("without endorsing", refused.Message);
        Assert.Contains(await _server.Api.GetDevicesAsync(alice.Session.AccessToken), d => d.Name == "plain");
        Assert.Equal(ErrorCodes.InvalidLink, (await Assert.ThrowsAsync<NatterApiException>(() => plainLinking.TryCompleteAsync())).Code);

        // A token of that device, as a raw client would use it: its keys are refused, so it is never sealed for.
        var linked = await _server.LinkDeviceAsync(alice.Session, "raw");
        var publish = await Assert.ThrowsAsync<NatterApiException>(() => SecureDevice.CreateAsync(_server.Api, linked));
        Assert.Equal((ErrorCodes.DeviceNotEndorsed, (int?)403), (publish.Code, publish.HttpStatus));
        Assert.Single((await _server.Api.GetDeviceIdentitiesAsync(alice.Session.AccessToken, phone)).Devices);

        // Endorsements that do not check are refused at the approval.
        var linking = await DeviceLinking.RequestAsync(_server.Api, phone, "tablet");
        var code = DeviceLinkCode.Parse(linking.LinkCode);
        var stranger = IdentityKeyPair.Generate();
        var forged = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.ApproveLinkAsync(alice.Session.AccessToken, code.LinkId,
            code.ApprovalCode, code.IdentityKey, stranger.EndorseDevice(alice.Session.UserId, code.IdentityKey), code.MacOf(stranger.IdentityKey)));
        Assert.Equal((ErrorCodes.InvalidKey, (int?)400), (forged.Code, forged.HttpStatus));
        var otherKey = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.ApproveLinkAsync(alice.Session.AccessToken, code.LinkId,
            code.ApprovalCode, stranger.IdentityKey, alice.Secure.Crypto.Keys.Identity.EndorseDevice(alice.Session.UserId, code.IdentityKey), new byte[32]));
        Assert.Equal(ErrorCodes.InvalidKey, otherKey.Code);
        var partial = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.ApproveLinkAsync(alice.Session.AccessToken, code.LinkId,
            code.ApprovalCode, code.IdentityKey, new byte[64], null!));
        Assert.Equal(ErrorCodes.MissingField, partial.Code);
        Assert.Null(await linking.TryCompleteAsync());

        // Endorsed, but the device publishes another identity key (a reinstall of a linked device links again).
        await alice.Secure.ApproveLinkAsync(linking.LinkCode);
        var tablet = (await linking.TryCompleteAsync())!;
        var reinstall = await Assert.ThrowsAsync<NatterApiException>(() => SecureDevice.CreateAsync(_server.Api, tablet.Session));
        Assert.Equal(ErrorCodes.DeviceNotEndorsed, reinstall.Code);
        Assert.Equal(2, (await _server.Api.GetDeviceIdentitiesAsync(alice.Session.AccessToken, phone)).Devices.Count);
    }

    [Fact]
    public async Task A_directory_that_lists_a_device_the_account_did_not_endorse_gets_nothing_sealed_for_it()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var bobSession = await _server.RegisterAsync();
        var chatId = (await _server.Api.OpenChatAsync(bobSession.AccessToken, "+" + alice.Session.UserId)).ChatId;
        // The server slips a device of its own into alice's listing, signed with a key that is not alice's account key.
        var eavesdropper = DeviceKeys.Generate(1);
        var signer = IdentityKeyPair.Generate();
        using var lying = Tampering(_server, "/api/keys/", (_, json) =>
        {
            if (json["devices"] is not JsonArray devices || devices.Count == 0 || json["userId"]?.GetValue<string>() != alice.Session.UserId) return;
            var fake = eavesdropper.ToBundle(alice.Session.UserId, "4");
            devices.Add(JsonSerializer.SerializeToNode(new PreKeyBundleView(fake.UserId, 4, fake.IdentityKey, fake.IdentityDhKey, fake.IdentityDhSignature,
                new SignedPreKeyView(fake.SignedPreKeyId, fake.SignedPreKey, fake.SignedPreKeySignature), null, false,
                signer.EndorseDevice(alice.Session.UserId, fake.IdentityKey)), ProtocolJson.Options));
        });
        var bob = await SecureDevice.CreateAsync(lying.Api, bobSession);
        await using var bobSocket = await _server.ConnectAsync(bobSession);

        var refused = await Assert.ThrowsAsync<UntrustedIdentityException>(() =>
            bob.SendAsync(bobSocket, chatId, [alice.Session.UserId, bobSession.UserId], "b1", "for alice only"u8.ToArray()));
        Assert.Equal(new DeviceAddress(alice.Session.UserId, "4"), refused.Device);
        Assert.Empty((await _server.Api.GetMessagesAsync(bobSession.AccessToken, chatId)).Messages);
    }

    [Fact]
    public async Task A_contact_s_account_key_is_taken_only_from_a_listing_that_checks_whole_and_its_change_is_raised_once()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var bobSession = await _server.RegisterAsync();
        var chatId = (await _server.Api.OpenChatAsync(bobSession.AccessToken, "+" + alice.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bobSession.UserId];
        var impostor = IdentityKeyPair.Generate();
        var lie = 0;
        using var lying = Tampering(_server, "/api/keys/", (path, json) =>
        {
            if (lie == 0 || json["userId"]?.GetValue<string>() != alice.Session.UserId) return;
            // The server's own account key for alice, its signatures over her real devices' keys, and (first) one bad device.
            foreach (var device in json["devices"] is JsonArray listed ? listed.OfType<JsonObject>().ToList() : [json])
                if (device["primary"]!.GetValue<bool>()) device["identityKey"] = Convert.ToBase64String(impostor.IdentityKey);
                else device["accountSignature"] = Convert.ToBase64String(impostor.EndorseDevice(alice.Session.UserId, Convert.FromBase64String(device["identityKey"]!.GetValue<string>())));
            // And the account's device list, signed again by that key with it in place of alice's.
            if (json["deviceList"] is JsonObject list) ResignList(list, alice.Session.UserId, impostor, replacing: alice.Secure.Crypto.Keys.Identity.IdentityKey);
            if (lie == 1 && path.EndsWith("/devices"))
                json["devices"]!.AsArray().Add(new JsonObject { ["deviceId"] = 4, ["identityKey"] = Convert.ToBase64String(IdentityKeyPair.Generate().IdentityKey),
                    ["identityDhKey"] = Convert.ToBase64String(new byte[32]), ["identityDhSignature"] = Convert.ToBase64String(new byte[64]),
                    ["primary"] = false, ["accountSignature"] = Convert.ToBase64String(new byte[64]) });
        });
        var bob = await SecureDevice.CreateAsync(lying.Api, bobSession);
        var changes = new List<IdentityChangedFrame>();
        bob.IdentityChanged = changes.Add;
        await using var bobSocket = await _server.ConnectAsync(bobSession);
        await bob.SendAsync(bobSocket, chatId, members, "b1", "alice's key pinned"u8.ToArray());

        // Alice links a laptop: bob's next send is refused as missing it, and the listing he checks it with is a lie
        // with a bad device in it. Refused whole: nothing is taken from it, nothing raised, nothing sent.
        await SecureTestDevice.LinkAsync(_server, alice, "laptop");
        lie = 1;
        await Assert.ThrowsAsync<UntrustedIdentityException>(() => bob.SendAsync(bobSocket, chatId, members, "b2", "refused"u8.ToArray()));
        Assert.Empty(changes);

        // A lie that checks whole under the server's key is taken, and raised, once: the app shows a new safety number.
        // (This server's lie goes no further: it has no bundle signed by that key, so the send fails at sealing, and
        // the session with alice's real phone, kept for another key than the listed one, is not sealed through.)
        lie = 2;
        await Assert.ThrowsAsync<InvalidBundleException>(() => bob.SendAsync(bobSocket, chatId, members, "b3", "after the change"u8.ToArray()));
        Assert.Equal([new IdentityChangedFrame(alice.Session.UserId, alice.Session.DeviceId)], changes);
        Assert.Equal(["alice's key pinned"], await alice.HistoryAsync(chatId));
    }

    [Fact]
    public async Task A_linked_device_refuses_an_account_key_that_did_not_come_from_the_device_that_scanned_its_code()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        // The server answers the completion with an account key and signature of its own making.
        var impostor = IdentityKeyPair.Generate();
        DeviceLinking linking = null!;
        using var lying = Tampering(_server, "/complete", (_, json) =>
        {
            var code = DeviceLinkCode.Parse(linking.LinkCode);
            json["endorsement"]!["accountKey"] = Convert.ToBase64String(impostor.IdentityKey);
            json["endorsement"]!["signature"] = Convert.ToBase64String(impostor.EndorseDevice(alice.Session.UserId, code.IdentityKey));
        });
        linking = await DeviceLinking.RequestAsync(lying.Api, "+" + alice.Session.UserId, "laptop");
        await alice.Secure.ApproveLinkAsync(linking.LinkCode);

        var refused = await Assert.ThrowsAsync<UntrustedIdentityException>(() => linking.TryCompleteAsync());
        Assert.Contains("did not come from the device that scanned", refused.Message);
    }

    [Fact]
    public async Task A_primary_with_a_new_identity_key_logs_out_the_devices_its_old_key_endorsed()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var laptop = await SecureTestDevice.LinkAsync(_server, alice, "laptop");
        var plain = await _server.LinkDeviceAsync(alice.Session, "plain");
        // Two contacts who know alice's account key: bob acts on the identity_changed notice, carol never sees it.
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var carol = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var bobChat = (await _server.Api.OpenChatAsync(bob.Session.AccessToken, "+" + alice.Session.UserId)).ChatId;
        var carolChat = (await _server.Api.OpenChatAsync(carol.Session.AccessToken, "+" + alice.Session.UserId)).ChatId;
        await bob.Secure.SendAsync(bob.Socket, bobChat, [alice.Session.UserId, bob.Session.UserId], "b0", "before"u8.ToArray());
        await carol.Secure.SendAsync(carol.Socket, carolChat, [alice.Session.UserId, carol.Session.UserId], "c0", "before"u8.ToArray());
        var bobChanges = new List<IdentityChangedFrame>();
        var carolChanges = new List<IdentityChangedFrame>();
        bob.Secure.IdentityChanged = bobChanges.Add;
        carol.Secure.IdentityChanged = carolChanges.Add;

        // Reinstalled with new keys: the laptop's endorsement no longer checks, so it goes; the keyless device stays.
        var reinstalled = await SecureDevice.CreateAsync(_server.Api, alice.Session);
        await laptop.Socket.Closed.WaitAsync(Wait);
        Assert.Equal((WebSocketCloseStatus)CloseCodes.DeviceRemoved, laptop.Socket.CloseStatus);
        Assert.Equal([alice.Session.DeviceId, plain.DeviceId],
            (await _server.Api.GetDevicesAsync(alice.Session.AccessToken)).Select(d => d.DeviceId).ToArray());

        // Linked again under the new account key, it is sealed for again, and each contact learns of the new key once:
        // bob from the notice (the SDK raises nothing more), carol from her refused send.
        var again = await SecureTestDevice.LinkAsync(_server, alice with { Secure = reinstalled }, "laptop again");
        bob.Secure.OnIdentityChanged(await bob.Socket.NextAsync<IdentityChangedFrame>(c => c.UserId == alice.Session.UserId, Wait));
        await bob.Secure.SendAsync(bob.Socket, bobChat, [alice.Session.UserId, bob.Session.UserId], "b1", "hello again"u8.ToArray());
        await carol.Secure.SendAsync(carol.Socket, carolChat, [alice.Session.UserId, carol.Session.UserId], "c1", "hello again"u8.ToArray());
        foreach (var (chat, sent) in new[] { (bobChat, "b1"), (carolChat, "c1") })
        {
            var message = (await _server.Api.GetMessagesAsync(again.Session.AccessToken, chat)).Messages.Single(m => m.ClientMsgId == sent);
            Assert.Equal("hello again", Encoding.UTF8.GetString(await again.Secure.OpenAsync(message)));
        }
        Assert.Empty(bobChanges);
        Assert.Equal([new IdentityChangedFrame(alice.Session.UserId, alice.Session.DeviceId)], carolChanges);
    }
}
