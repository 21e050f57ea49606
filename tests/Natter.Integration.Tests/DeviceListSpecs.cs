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
/// The account's signed device list (docs/e2ee.md §7.2): the primary signs its devices' identity keys under a growing
/// version at every link and removal, the server serves it with every listing, and a client that saw a list refuses a
/// device it leaves out, an older list and a listing without one, so a removed device stays removed even though its
/// endorsement still verifies. The lying directory is the real server behind an HTTP handler that rewrites its answers.
/// </summary>
public sealed class DeviceListSpecs : IAsyncLifetime
{
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite());

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string[] Base64(IEnumerable<byte[]> keys) => keys.Select(Convert.ToBase64String).ToArray();

    private async Task<DeviceListView?> ListOf(SecureTestDevice device) =>
        (await _server.Api.GetDeviceIdentitiesAsync(device.Session.AccessToken, "+" + device.Session.UserId)).DeviceList;

    [Fact]
    public async Task The_primary_signs_its_devices_as_a_list_that_grows_with_each_link_and_shrinks_with_each_removal()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        Assert.Null(await ListOf(alice));
        var laptop = await SecureTestDevice.LinkAsync(_server, alice, "laptop");
        var tablet = await SecureTestDevice.LinkAsync(_server, alice, "tablet");
        var accountKey = alice.Secure.Crypto.Keys.Identity.IdentityKey;
        var (laptopKey, tabletKey) = (laptop.Secure.Crypto.Keys.Identity.IdentityKey, tablet.Secure.Crypto.Keys.Identity.IdentityKey);

        var list = (await ListOf(alice))!;
        Assert.Equal(2, list.Version);
        Assert.Equal(Base64([accountKey, laptopKey, tabletKey]), Base64(list.Keys));
        Assert.True(KeySignatures.VerifyDeviceList(accountKey, alice.Session.UserId, list.Version, list.Keys, list.Signature));
        var bob = await _server.RegisterAsync();
        Assert.Equal(list.Signature, (await _server.Api.GetBundlesAsync(bob.AccessToken, "+" + alice.Session.UserId)).DeviceList!.Signature);

        await alice.Secure.RemoveDeviceAsync(laptop.Session.DeviceId);
        list = (await ListOf(alice))!;
        Assert.Equal(3, list.Version);
        Assert.Equal(Base64([accountKey, tabletKey]), Base64(list.Keys));

        // A linked device that removes itself cannot sign; the primary does when told the account's devices changed.
        await tablet.Secure.RemoveDeviceAsync(tablet.Session.DeviceId);
        await alice.Secure.OnDevicesChangedAsync(new DevicesChangedFrame(alice.Session.UserId));
        list = (await ListOf(alice))!;
        Assert.Equal(4, list.Version);
        Assert.Equal(Base64([accountKey]), Base64(list.Keys));
        Assert.False(await alice.Secure.PublishDeviceListAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => laptop.Secure.PublishDeviceListAsync());

        // A state saved before account keys were kept finds out from the directory that it is the primary.
        var state = JsonNode.Parse(alice.Secure.Export())!.AsObject();
        state.Remove("accountKeys");
        var older = SecureDevice.Restore(_server.Api, alice.Session, System.Text.Encoding.UTF8.GetBytes(state.ToJsonString()));
        Assert.False(await older.PublishDeviceListAsync());
    }

    [Fact]
    public async Task A_device_the_primary_removed_is_not_believed_again_whatever_list_the_server_serves_with_it()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var laptop = await SecureTestDevice.LinkAsync(_server, alice, "laptop");
        var bobSession = await _server.RegisterAsync();
        var chatId = (await _server.Api.OpenChatAsync(bobSession.AccessToken, "+" + alice.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bobSession.UserId];

        // The lies: the laptop's listing and the list as bob saw them while the laptop was on the account.
        JsonNode? laptopListed = null, oldList = null;
        var lie = "none";
        using var lying = Tampering(_server, "/api/keys/", (path, json) =>
        {
            if (json["userId"]?.GetValue<string>() != alice.Session.UserId || !path.EndsWith("/devices")) return;
            var devices = json["devices"]!.AsArray();
            if (lie == "none")
            {
                laptopListed ??= devices.FirstOrDefault(d => d!["deviceId"]!.GetValue<int>() == laptop.Session.DeviceId)?.DeepClone();
                oldList ??= json["deviceList"]?.DeepClone();
                return;
            }
            devices.Add(laptopListed!.DeepClone());
            if (lie == "old list") json["deviceList"] = oldList!.DeepClone();
            if (lie == "no list") json.Remove("deviceList");
            // What a primary that signed two lists of one version would have given away.
            if (lie == "same version") ResignList(json["deviceList"]!.AsObject(), alice.Session.UserId, alice.Secure.Crypto.Keys.Identity,
                adding: Convert.FromBase64String(laptopListed!["identityKey"]!.GetValue<string>()));
        });
        var bob = await SecureDevice.CreateAsync(lying.Api, bobSession);
        await using var bobSocket = await _server.ConnectAsync(bobSession);
        await bob.SendAsync(bobSocket, chatId, members, "b1", "to the phone and the laptop"u8.ToArray());
        await bob.OnDevicesChangedAsync(new DevicesChangedFrame(alice.Session.UserId));
        Assert.NotNull(laptopListed);

        // Alice removes the laptop; bob, told, reads the newer list (he would whatever the server says: it is pinned).
        await alice.Secure.RemoveDeviceAsync(laptop.Session.DeviceId);
        await bob.OnDevicesChangedAsync(new DevicesChangedFrame(alice.Session.UserId));
        var saved = bob.Export();

        var laptopAddress = new DeviceAddress(alice.Session.UserId, laptop.Session.DeviceId.ToString());
        lie = "current list";
        Assert.Equal(laptopAddress, (await Assert.ThrowsAsync<UntrustedIdentityException>(() =>
            bob.OnDevicesChangedAsync(new DevicesChangedFrame(alice.Session.UserId)))).Device);
        lie = "old list";
        var rolledBack = await Assert.ThrowsAsync<UntrustedIdentityException>(() => bob.OnDevicesChangedAsync(new DevicesChangedFrame(alice.Session.UserId)));
        Assert.Contains("version 1 of the device list", rolledBack.Message);
        var restored = SecureDevice.Restore(lying.Api, bobSession, saved);
        await Assert.ThrowsAsync<UntrustedIdentityException>(() => restored.OnDevicesChangedAsync(new DevicesChangedFrame(alice.Session.UserId)));
        lie = "no list";
        var dropped = await Assert.ThrowsAsync<UntrustedIdentityException>(() => bob.OnDevicesChangedAsync(new DevicesChangedFrame(alice.Session.UserId)));
        Assert.Contains("left out the signed device list", dropped.Message);
        lie = "same version";
        var equivocated = await Assert.ThrowsAsync<UntrustedIdentityException>(() => bob.OnDevicesChangedAsync(new DevicesChangedFrame(alice.Session.UserId)));
        Assert.Contains("two different device lists of version 2", equivocated.Message);
        // A notice that alice's account key changed is the server's word too: the same key coming back keeps its list pinned.
        bob.OnIdentityChanged(new IdentityChangedFrame(alice.Session.UserId, alice.Session.DeviceId));
        lie = "old list";
        await Assert.ThrowsAsync<UntrustedIdentityException>(() => bob.OnDevicesChangedAsync(new DevicesChangedFrame(alice.Session.UserId)));

        // Told the truth again, bob seals for the phone alone, and a device linked since is believed with the newer list.
        lie = "none";
        await bob.SendAsync(bobSocket, chatId, members, "b2", "to the phone"u8.ToArray());
        var tablet = await SecureTestDevice.LinkAsync(_server, alice, "tablet");
        await bob.SendAsync(bobSocket, chatId, members, "b3", "to the phone and the tablet"u8.ToArray());
        Assert.Equal(["to the phone and the laptop", "to the phone", "to the phone and the tablet"], await alice.HistoryAsync(chatId));
        var last = (await _server.Api.GetMessagesAsync(tablet.Session.AccessToken, chatId)).Messages.Single(m => m.ClientMsgId == "b3");
        Assert.Equal("to the phone and the tablet", System.Text.Encoding.UTF8.GetString(await tablet.Secure.OpenAsync(last)));
    }

    [Fact]
    public async Task A_message_from_a_device_removed_since_is_not_believed_whatever_session_was_kept_with_it()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var laptop = await SecureTestDevice.LinkAsync(_server, alice, "laptop");
        var bobSession = await _server.RegisterAsync();
        var chatId = (await _server.Api.OpenChatAsync(bobSession.AccessToken, "+" + alice.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bobSession.UserId];
        // After the removal the server keeps listing the laptop, under the newest list (it cannot sign one of its own).
        JsonNode? laptopListed = null;
        var lie = false;
        using var lying = Tampering(_server, "/api/keys/", (path, json) =>
        {
            if (json["userId"]?.GetValue<string>() != alice.Session.UserId || !path.EndsWith("/devices")) return;
            var devices = json["devices"]!.AsArray();
            if (!lie) laptopListed ??= devices.FirstOrDefault(d => d!["deviceId"]!.GetValue<int>() == laptop.Session.DeviceId)?.DeepClone();
            else devices.Add(laptopListed!.DeepClone());
        });
        var bob = await SecureDevice.CreateAsync(lying.Api, bobSession);
        // Bob only reads: alice's devices are not among those he seals for, so nothing drops the laptop's session but the list.
        await laptop.Secure.SendAsync(laptop.Socket, chatId, members, "l1", "first from the laptop"u8.ToArray());
        await laptop.Secure.SendAsync(laptop.Socket, chatId, members, "l2", "second from the laptop"u8.ToArray());
        async Task<MessageFrame> Sent(string clientMsgId) =>
            (await _server.Api.GetMessagesAsync(bobSession.AccessToken, chatId)).Messages.Single(m => m.ClientMsgId == clientMsgId);
        Assert.Equal("first from the laptop", System.Text.Encoding.UTF8.GetString(await bob.OpenAsync(await Sent("l1"))));
        Assert.NotNull(laptopListed);

        // Alice removes the laptop and links a tablet; bob learns the newer list from the tablet's first message.
        await alice.Secure.RemoveDeviceAsync(laptop.Session.DeviceId);
        var tablet = await SecureTestDevice.LinkAsync(_server, alice, "tablet");
        await tablet.Secure.SendAsync(tablet.Socket, chatId, members, "t1", "from the tablet"u8.ToArray());
        Assert.Equal("from the tablet", System.Text.Encoding.UTF8.GetString(await bob.OpenAsync(await Sent("t1"))));

        // The laptop's second message (sent before the removal, or made up after: nothing tells them apart) is not believed.
        var second = await Sent("l2");
        lie = true;
        var refused = await Assert.ThrowsAsync<UntrustedIdentityException>(() => bob.OpenAsync(second));
        Assert.Equal(new DeviceAddress(alice.Session.UserId, laptop.Session.DeviceId.ToString()), refused.Device);
    }

    [Fact]
    public async Task A_newer_list_read_on_any_path_stops_sealing_for_the_devices_it_leaves_out()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var laptop = await SecureTestDevice.LinkAsync(_server, alice, "laptop");
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var chatId = (await _server.Api.OpenChatAsync(bob.Session.AccessToken, "+" + alice.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bob.Session.UserId];
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "b1", "to the phone and the laptop"u8.ToArray());
        var laptopAddress = new DeviceAddress(alice.Session.UserId, laptop.Session.DeviceId.ToString());
        Assert.True(bob.Secure.Crypto.HasSession(laptopAddress));

        // Bob is not told of the removal; he reads the newer list when a tablet linked since writes to him.
        await alice.Secure.RemoveDeviceAsync(laptop.Session.DeviceId);
        var tablet = await SecureTestDevice.LinkAsync(_server, alice, "tablet");
        await tablet.Secure.SendAsync(tablet.Socket, chatId, members, "t1", "from the tablet"u8.ToArray());
        var fromTablet = (await _server.Api.GetMessagesAsync(bob.Session.AccessToken, chatId)).Messages.Single(m => m.ClientMsgId == "t1");
        Assert.Equal("from the tablet", System.Text.Encoding.UTF8.GetString(await bob.Secure.OpenAsync(fromTablet)));

        // From then on the laptop is neither sealed for nor kept, whatever the server would say of it.
        Assert.False(bob.Secure.Crypto.HasSession(laptopAddress));
        var saved = JsonNode.Parse(bob.Secure.Export())!["devices"]![alice.Session.UserId]!.AsArray().Select(d => d!.GetValue<int>());
        Assert.DoesNotContain(laptop.Session.DeviceId, saved);
    }

    [Fact]
    public async Task A_primary_never_signs_a_removed_device_back_in_whatever_the_server_says_the_account_has()
    {
        var session = await _server.RegisterAsync();
        // The server keeps listing the laptop among the account's devices (GET /api/devices) after its removal.
        JsonNode? laptopView = null;
        var lie = false;
        using var lying = TamperingAny(_server, "/api/devices", (path, json) =>
        {
            if (path != "/api/devices" || json is not JsonArray devices) return;
            if (!lie) laptopView ??= devices.FirstOrDefault(d => d!["name"]!.GetValue<string>() == "laptop")?.DeepClone();
            else if (devices.All(d => d!["deviceId"]!.GetValue<int>() != laptopView!["deviceId"]!.GetValue<int>())) devices.Add(laptopView!.DeepClone());
        });
        var phone = await SecureDevice.CreateAsync(lying.Api, session);
        await using var socket = await _server.ConnectAsync(session);
        var alice = new SecureTestDevice(session, phone, socket, _server.Api);
        var laptop = await SecureTestDevice.LinkAsync(_server, alice, "laptop");
        await lying.Api.GetDevicesAsync(session.AccessToken);
        Assert.NotNull(laptopView);
        var older = phone.Export();

        lie = true;
        await phone.RemoveDeviceAsync(laptop.Session.DeviceId);
        var accountKey = phone.Crypto.Keys.Identity.IdentityKey;
        Assert.Equal(Base64([accountKey]), Base64((await ListOf(alice))!.Keys));
        Assert.False(await phone.PublishDeviceListAsync());
        var tablet = await SecureTestDevice.LinkAsync(_server, alice, "tablet");
        var tabletKey = tablet.Secure.Crypto.Keys.Identity.IdentityKey;
        Assert.Equal(Base64([accountKey, tabletKey]), Base64((await ListOf(alice))!.Keys));

        // A copy restored from before the removal (its pinned list still names the laptop) signs on top of the directory's list.
        var restored = alice with { Secure = SecureDevice.Restore(lying.Api, session, older) };
        var watch = await SecureTestDevice.LinkAsync(_server, restored, "watch");
        Assert.Equal(Base64([accountKey, tabletKey, watch.Secure.Crypto.Keys.Identity.IdentityKey]), Base64((await ListOf(alice))!.Keys));
    }

    [Fact]
    public async Task The_server_takes_a_list_only_from_the_primary_signed_by_the_account_key_newer_and_naming_it()
    {
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var laptop = await SecureTestDevice.LinkAsync(_server, alice, "laptop");
        var accountKey = alice.Secure.Crypto.Keys.Identity;
        var laptopKey = laptop.Secure.Crypto.Keys.Identity.IdentityKey;
        DeviceListView Signed(long version, IdentityKeyPair signer, params byte[][] keys) =>
            new(version, keys, signer.SignDeviceList(alice.Session.UserId, version, keys));
        async Task<NatterApiException> Refused(string token, DeviceListView list) =>
            await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.PublishDeviceListAsync(token, list));

        var byLaptop = await Refused(laptop.Session.AccessToken, Signed(2, accountKey, accountKey.IdentityKey, laptopKey));
        Assert.Equal((ErrorCodes.NotPrimary, (int?)403), (byLaptop.Code, byLaptop.HttpStatus));
        var forged = await Refused(alice.Session.AccessToken, Signed(2, IdentityKeyPair.Generate(), accountKey.IdentityKey, laptopKey));
        Assert.Equal((ErrorCodes.InvalidKey, (int?)400), (forged.Code, forged.HttpStatus));
        var stale = await Refused(alice.Session.AccessToken, Signed(1, accountKey, accountKey.IdentityKey));
        Assert.Equal((ErrorCodes.StaleDeviceList, (int?)409), (stale.Code, stale.HttpStatus));
        var withoutPrimary = await Refused(alice.Session.AccessToken, Signed(2, accountKey, laptopKey));
        Assert.Equal((ErrorCodes.InvalidField, (int?)400), (withoutPrimary.Code, withoutPrimary.HttpStatus));
        var empty = await Refused(alice.Session.AccessToken, new DeviceListView(2, null!, null!));
        Assert.Equal((ErrorCodes.MissingField, (int?)400), (empty.Code, empty.HttpStatus));

        // An endorsed approval without a list is refused once the account has one: contacts would refuse the new device.
        var linking = await DeviceLinking.RequestAsync(_server.Api, "+" + alice.Session.UserId, "tablet");
        var code = DeviceLinkCode.Parse(linking.LinkCode);
        var unlisted = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.ApproveLinkAsync(alice.Session.AccessToken, code.LinkId,
            code.ApprovalCode, code.IdentityKey, accountKey.EndorseDevice(alice.Session.UserId, code.IdentityKey), code.MacOf(accountKey.IdentityKey)));
        Assert.Equal((ErrorCodes.MissingField, (int?)400), (unlisted.Code, unlisted.HttpStatus));

        // A list that leaves the laptop out takes it out of the directory, though it is still on the account.
        var listing = await _server.Api.PublishDeviceListAsync(alice.Session.AccessToken, Signed(2, accountKey, accountKey.IdentityKey));
        Assert.Equal([alice.Session.DeviceId], listing.Devices.Select(d => d.DeviceId).ToArray());
        Assert.Contains(await _server.Api.GetDevicesAsync(alice.Session.AccessToken), d => d.DeviceId == laptop.Session.DeviceId);
    }
}
