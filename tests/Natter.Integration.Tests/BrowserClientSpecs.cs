using System.Text;
using Microsoft.Playwright;
using Natter.Client;
using Natter.Client.Secure;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// The browser client (Cluster.Edge/wwwroot) in real headless Chromium (Debian's, installed by test.sh), driven
/// by Playwright, talking to a real server, with C# clients on the other side: the JavaScript encryption and the
/// C# SDK's must agree byte for byte, in both directions and in both roles of session setup.
/// </summary>
public sealed class BrowserClientSpecs : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private InProcessServer _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        // A VAPID key, so the page can ask for a Web Push subscription (GET /api/devices/push/webpush-key).
        using var vapid = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        _server = await InProcessServer.StartAsync(Journal.Sqlite(), overrides: new Dictionary<string, string?>
        {
            ["Natter:Notifications:Push:WebPushVapidPrivateKey"] = vapid.ExportECPrivateKeyPem(),
            ["Natter:Notifications:Push:WebPushVapidSubject"] = "mailto:ops@example.org",
        });
        _playwright = await Playwright.CreateAsync();
        // A loaded 2-core CI machine: give page loads and socket round trips more than the default 5 s.
        Assertions.SetDefaultExpectTimeout(30_000);
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // This machine has no network beyond loopback: keep Chromium from reaching out.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_browser_user_and_native_users_chat_end_to_end_encrypted_both_ways()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var carol = await _server.RegisterAsync();
        var bobDevice = await SecureDevice.CreateAsync(_server.Api, bob);
        var carolDevice = await SecureDevice.CreateAsync(_server.Api, carol);
        await using var bobSocket = await _server.ConnectAsync(bob);
        await using var carolSocket = await _server.ConnectAsync(carol);
        await bobSocket.SyncAsync();
        await carolSocket.SyncAsync();
        var context = await _browser.NewContextAsync();

        // The browser makes its device's keys and publishes them as it connects.
        var page = await OpenAsync(context, alice);
        Assert.True((await _server.Api.GetKeysStatusAsync(alice.AccessToken)).Published);

        // The native client seals for the browser's device; the browser opens it (its first session, as responder).
        var chatId = (await _server.Api.OpenChatAsync(bob.AccessToken, "+" + alice.UserId)).ChatId;
        await bobDevice.SendAsync(bobSocket, chatId, [alice.UserId, bob.UserId], "live-1", Encoding.UTF8.GetBytes("hello from the native client"));
        await page.Locator($"[data-chat='{chatId}']").ClickAsync();
        await Assertions.Expect(page.Locator("#messages li").First).ToHaveTextAsync("hello from the native client");
        await Assertions.Expect(page.Locator("#messages li").First).ToHaveAttributeAsync("data-sealed", "true");

        // The browser seals its answer in the same session; the native client opens it.
        await page.Locator("#text").FillAsync("hi from Chromium");
        await page.Locator("#composer button").ClickAsync();
        await bobSocket.Received.WaitForCountAsync(chatId, 2, TimeSpan.FromSeconds(30));
        var fromBrowser = bobSocket.Received.Of(chatId)[^1];
        Assert.Equal((alice.UserId, true), (fromBrowser.Sender, fromBrowser.Sealed));
        Assert.NotEqual("hi from Chromium", Encoding.UTF8.GetString(fromBrowser.Body));
        Assert.Equal("hi from Chromium", Encoding.UTF8.GetString(await bobDevice.OpenAsync(fromBrowser)));
        await Assertions.Expect(page.Locator("#messages li.mine")).ToHaveTextAsync("hi from Chromium");
        // The browser acknowledged what it showed: Bob sees his message read.
        var read = await bobSocket.NextAsync<ReceiptFrame>(r => r.Kind == "read" && r.UserId == alice.UserId && r.Seq >= 1);
        Assert.True(read.Seq >= 1);

        // Away, then back: keys and sessions were kept in the browser; what came meanwhile opens after the sync.
        await page.CloseAsync();
        await bobDevice.SendAsync(bobSocket, chatId, [alice.UserId, bob.UserId], "away-1", Encoding.UTF8.GetBytes("sent while the browser was away"));
        var carolChat = (await _server.Api.OpenChatAsync(carol.AccessToken, "+" + alice.UserId)).ChatId;
        page = await OpenAsync(context, alice);
        await page.Locator($"[data-chat='{chatId}']").ClickAsync();
        await Assertions.Expect(page.Locator("#messages li")).ToHaveTextAsync(
            ["hello from the native client", "hi from Chromium", "sent while the browser was away"]);

        // The browser starts a session itself (X3DH as initiator) with a user it never talked to.
        await page.Locator($"[data-chat='{carolChat}']").ClickAsync();
        await page.Locator("#text").FillAsync("first words to carol");
        await page.Locator("#composer button").ClickAsync();
        await carolSocket.Received.WaitForCountAsync(carolChat, 1, TimeSpan.FromSeconds(30));
        Assert.Equal("first words to carol", Encoding.UTF8.GetString(await carolDevice.OpenAsync(carolSocket.Received.Of(carolChat)[0])));
    }

    [Fact]
    public async Task A_contact_who_reinstalls_gets_the_browser_s_next_message_in_a_new_session()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var bobDevice = await SecureDevice.CreateAsync(_server.Api, bob);
        await using var bobSocket = await _server.ConnectAsync(bob);
        await bobSocket.SyncAsync();
        var page = await OpenAsync(await _browser.NewContextAsync(), alice);
        var chatId = (await _server.Api.OpenChatAsync(bob.AccessToken, "+" + alice.UserId)).ChatId;
        await bobDevice.SendAsync(bobSocket, chatId, [alice.UserId, bob.UserId], "b1", Encoding.UTF8.GetBytes("before"));
        await page.Locator($"[data-chat='{chatId}']").ClickAsync();
        await Assertions.Expect(page.Locator("#messages li")).ToHaveTextAsync(["before"]);

        // Bob reinstalls: the same device with new keys. The server tells his contacts (identity_changed).
        var reinstalled = await SecureDevice.CreateAsync(_server.Api, bob);
        await page.WaitForTimeoutAsync(1000);
        await page.Locator("#text").FillAsync("after the reinstall");
        await page.Locator("#composer button").ClickAsync();
        await bobSocket.Received.WaitForCountAsync(chatId, 2, TimeSpan.FromSeconds(30));
        Assert.Equal("after the reinstall", Encoding.UTF8.GetString(await reinstalled.OpenAsync(bobSocket.Received.Of(chatId)[^1])));
    }

    [Fact]
    public async Task A_contact_who_reinstalled_while_the_browser_was_away_gets_its_next_message_after_the_server_names_the_change()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var bobDevice = await SecureDevice.CreateAsync(_server.Api, bob);
        await using var bobSocket = await _server.ConnectAsync(bob);
        await bobSocket.SyncAsync();
        var context = await _browser.NewContextAsync();
        var page = await OpenAsync(context, alice);
        var chatId = (await _server.Api.OpenChatAsync(bob.AccessToken, "+" + alice.UserId)).ChatId;
        await bobDevice.SendAsync(bobSocket, chatId, [alice.UserId, bob.UserId], "b1", Encoding.UTF8.GetBytes("before"));
        await page.Locator($"[data-chat='{chatId}']").ClickAsync();
        await Assertions.Expect(page.Locator("#messages li")).ToHaveTextAsync(["before"]);

        // Bob reinstalls while the page is closed: the identity_changed notice never reaches it.
        await page.CloseAsync();
        var reinstalled = await SecureDevice.CreateAsync(_server.Api, bob);
        page = await OpenAsync(context, alice);
        await page.Locator($"[data-chat='{chatId}']").ClickAsync();
        await page.Locator("#text").FillAsync("after the reinstall");
        await page.Locator("#composer button").ClickAsync();

        // Sealed for Bob's old keys first: refused with his device as changed, sealed again in a new session.
        await bobSocket.Received.WaitForCountAsync(chatId, 2, TimeSpan.FromSeconds(30));
        Assert.Equal("after the reinstall", Encoding.UTF8.GetString(await reinstalled.OpenAsync(bobSocket.Received.Of(chatId)[^1])));
    }

    [Fact]
    public async Task A_backup_made_in_the_browser_restores_on_a_native_phone_and_a_native_one_restores_in_the_browser()
    {
        const string passphrase = "same words on every device";
        var alicePhone = Phones.Next();
        var alice = await _server.RegisterAsync(alicePhone);
        var bob = await _server.RegisterAsync();
        var bobDevice = await SecureDevice.CreateAsync(_server.Api, bob);
        await using var bobSocket = await _server.ConnectAsync(bob);
        await bobSocket.SyncAsync();
        string[] members = [alice.UserId, bob.UserId];
        var page = await OpenAsync(await _browser.NewContextAsync(), alice);
        var chatId = (await _server.Api.OpenChatAsync(bob.AccessToken, "+" + alice.UserId)).ChatId;
        await bobDevice.SendAsync(bobSocket, chatId, members, "one", Encoding.UTF8.GetBytes("one"));
        await page.Locator($"[data-chat='{chatId}']").ClickAsync();
        await Assertions.Expect(page.Locator("#messages li")).ToHaveTextAsync(["one"]);
        await page.Locator("#text").FillAsync("two");
        await page.Locator("#composer button").ClickAsync();
        await Assertions.Expect(page.Locator("#messages li")).ToHaveTextAsync(["one", "two"]);

        // The browser backs up; then the number is verified on a new phone (the browser's device is logged out).
        // Enter alone does nothing: a backup replaces the account's, so only its button makes one.
        await page.Locator("#passphrase").FillAsync(passphrase);
        await page.Locator("#passphrase").PressAsync("Enter");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(ErrorCodes.NoBackup, (await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.GetBackupAsync(alice.AccessToken))).Code);
        await page.Locator("#backup button[value='backup']").ClickAsync();
        await Assertions.Expect(page.Locator("#backup-status")).ToHaveTextAsync("backed up 2 keys");
        var phone = await _server.RegisterAsync(alicePhone, "new phone");
        var phoneDevice = await SecureDevice.CreateAsync(_server.Api, phone);
        await using var phoneSocket = await _server.ConnectAsync(phone);
        Assert.Equal(2, await phoneDevice.RestoreBackupAsync(passphrase));
        var page1 = await _server.Api.GetMessagesAsync(phone.AccessToken, chatId);
        var texts = new List<string>();
        foreach (var m in page1.Messages.OrderBy(m => m.Seq)) texts.Add(Encoding.UTF8.GetString(await phoneDevice.OpenAsync(m)));
        Assert.Equal(["one", "two"], texts);

        // The phone adds a message and backs up; a browser linked later restores that backup and reads all three.
        await phoneDevice.SendAsync(phoneSocket, chatId, members, "three", Encoding.UTF8.GetBytes("three"));
        await phoneDevice.BackupAsync(passphrase);
        var laptopContext = await _browser.NewContextAsync();
        var laptopPage = await LinkPageAsync(laptopContext, phoneDevice);
        await laptopPage.Locator($"[data-chat='{chatId}']").ClickAsync();
        await Assertions.Expect(laptopPage.Locator("#messages li")).ToHaveCountAsync(3);
        await Assertions.Expect(laptopPage.Locator("#messages li").First).ToContainTextAsync("🔒");
        await laptopPage.Locator("#passphrase").FillAsync(passphrase);
        await laptopPage.Locator("#backup button[value='restore']").ClickAsync();
        await Assertions.Expect(laptopPage.Locator("#backup-status")).ToHaveTextAsync("restored 3 keys");
        await Assertions.Expect(laptopPage.Locator("#messages li")).ToHaveTextAsync(["one", "two", "three"]);

        // The linked page seals for its account's endorsed devices: the phone reads what it sends.
        var had = phoneSocket.Received.Of(chatId).Count;
        await laptopPage.Locator("#text").FillAsync("four, from the linked browser");
        await laptopPage.Locator("#composer button").ClickAsync();
        await phoneSocket.Received.WaitForCountAsync(chatId, had + 1, TimeSpan.FromSeconds(30));
        Assert.Equal("four, from the linked browser", Encoding.UTF8.GetString(await phoneDevice.OpenAsync(phoneSocket.Received.Of(chatId)[^1])));

        // The browser kept its session: opened again at a chat (as a notification's click opens it), it is the same
        // device, online, with that chat open and its history readable; no second device was linked.
        var devices = (await _server.Api.GetDevicesAsync(phone.AccessToken)).Count;
        await laptopPage.CloseAsync();
        var again = await laptopContext.NewPageAsync();
        await again.GotoAsync($"{_server.BaseAddress}#chat={Uri.EscapeDataString(chatId)}");
        await Assertions.Expect(again.Locator("#status")).ToHaveTextAsync("online");
        await Assertions.Expect(again.Locator("#messages li")).ToHaveTextAsync(["one", "two", "three", "four, from the linked browser"]);
        Assert.Equal(devices, (await _server.Api.GetDevicesAsync(phone.AccessToken)).Count);

        // Signed out, it asks again; a removed device's kept token is refused and forgotten.
        await again.Locator("#signout").ClickAsync();
        await Assertions.Expect(again.Locator("#signin")).ToBeVisibleAsync();
        var removed = await _server.RegisterAsync();
        var removedPage = await LinkPageAsync(await _browser.NewContextAsync(), await SecureDevice.CreateAsync(_server.Api, removed));
        await _server.Api.RemoveDeviceAsync(removed.AccessToken, (await _server.Api.GetDevicesAsync(removed.AccessToken))[^1].DeviceId);
        await Assertions.Expect(removedPage.Locator("#error")).ToHaveTextAsync("This device was removed from the account.");
        await Assertions.Expect(removedPage.Locator("#signin")).ToBeVisibleAsync();
        // The same page signs in as another device: its own vault and keys, not the removed one's; the typed token is kept.
        var other = await _server.RegisterAsync();
        await removedPage.Locator("#token").FillAsync(other.AccessToken);
        await removedPage.Locator("#signin button").ClickAsync();
        await Assertions.Expect(removedPage.Locator("#status")).ToHaveTextAsync("online");
        Assert.True((await _server.Api.GetKeysStatusAsync(other.AccessToken)).Published);
        await removedPage.ReloadAsync();
        await Assertions.Expect(removedPage.Locator("#status")).ToHaveTextAsync("online");
        Assert.True(await removedPage.EvaluateAsync<bool>($"() => localStorage.getItem('natter-e2ee/{other.UserId}/{other.DeviceId}') !== null"));
    }

    [Fact]
    public async Task A_second_tab_of_the_same_device_takes_over_once_the_first_has_let_go_of_the_vault()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var bobDevice = await SecureDevice.CreateAsync(_server.Api, bob);
        await using var bobSocket = await _server.ConnectAsync(bob);
        var chatId = (await _server.Api.OpenChatAsync(bob.AccessToken, "+" + alice.UserId)).ChatId;
        var context = await _browser.NewContextAsync();
        var first = await OpenAsync(context, alice);
        await bobDevice.SendAsync(bobSocket, chatId, [alice.UserId, bob.UserId], "b1", "to the first tab"u8.ToArray());
        await first.Locator($"[data-chat='{chatId}']").ClickAsync();
        await Assertions.Expect(first.Locator("#messages li")).ToHaveTextAsync(["to the first tab"]);

        // The second tab's connection closes the first's (4009): the first stops writing the vault and lets go of it,
        // and the second reads it then, with the sessions the first left: what comes next opens there.
        var second = await OpenAsync(context, alice);
        await Assertions.Expect(first.Locator("#error")).ToHaveTextAsync("This device is open in another tab or window.");
        await bobDevice.SendAsync(bobSocket, chatId, [alice.UserId, bob.UserId], "b2", "to the second tab"u8.ToArray());
        await second.Locator($"[data-chat='{chatId}']").ClickAsync();
        await Assertions.Expect(second.Locator("#messages li")).ToHaveTextAsync(["to the first tab", "to the second tab"]);
    }

    [Fact]
    public async Task The_browser_as_primary_approves_and_endorses_a_device_from_its_link_code()
    {
        var alice = await _server.RegisterAsync();
        var page = await OpenAsync(await _browser.NewContextAsync(), alice);
        var linking = await DeviceLinking.RequestAsync(_server.Api, "+" + alice.UserId, "tablet");

        await page.Locator("#approve-code").FillAsync("natter-link-v1:nonsense");
        await page.Locator("#approve button").ClickAsync();
        await Assertions.Expect(page.Locator("#approve-status")).ToContainTextAsync("not a link code");
        await page.Locator("#approve-code").FillAsync(linking.LinkCode);
        await page.Locator("#approve button").ClickAsync();
        await Assertions.Expect(page.Locator("#approve-status")).ToHaveTextAsync("approved: the account has 2 devices");

        // The SDK checks what the page signed and MACed (JavaScript against C#), then publishes keys the server takes.
        var tablet = await linking.TryCompleteAsync();
        Assert.NotNull(tablet);
        Assert.True((await _server.Api.GetKeysStatusAsync(tablet.Session.AccessToken)).Published);
        var listing = await _server.Api.GetDeviceIdentitiesAsync(alice.AccessToken, "+" + alice.UserId);
        Assert.Equal([alice.DeviceId, tablet.Session.DeviceId], listing.Devices.Select(d => d.DeviceId).ToArray());
        // With it, the page signed the account's device list: both keys, under its own (JavaScript against C# again).
        var list = listing.DeviceList!;
        Assert.Equal(listing.Devices.Select(d => Convert.ToBase64String(d.IdentityKey)), list.Keys.Select(Convert.ToBase64String));
        Assert.True(Natter.Client.Crypto.KeySignatures.VerifyDeviceList(listing.Devices[0].IdentityKey, alice.UserId, list.Version, list.Keys, list.Signature));
    }

    [Fact]
    public async Task The_browser_does_not_believe_a_removed_device_again_under_an_older_device_list()
    {
        var alice = await _server.RegisterAsync();
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var laptop = await SecureTestDevice.LinkAsync(_server, bob, "laptop");
        var withLaptop = System.Text.Json.JsonSerializer.Serialize(
            await _server.Api.GetDeviceIdentitiesAsync(bob.Session.AccessToken, "+" + bob.Session.UserId), ProtocolJson.Options);
        var chatId = (await _server.Api.OpenChatAsync(bob.Session.AccessToken, "+" + alice.UserId)).ChatId;
        var context = await _browser.NewContextAsync();
        var page = await OpenAsync(context, alice);
        await page.Locator($"[data-chat='{chatId}']").ClickAsync();
        await page.Locator("#text").FillAsync("to bob's phone and laptop");
        await page.Locator("#composer button").ClickAsync();
        await bob.Socket.Received.WaitForCountAsync(chatId, 1, TimeSpan.FromSeconds(30));

        // Bob removes the laptop; the page, told the devices changed, pins the newer list.
        await bob.Secure.RemoveDeviceAsync(laptop.Session.DeviceId);
        await page.WaitForFunctionAsync($"() => JSON.parse(localStorage.getItem('natter-e2ee/{alice.UserId}/{alice.DeviceId}')).accounts['{bob.Session.UserId}'].list?.version === 2");

        // The directory lies from then on: the listing from when the laptop was on the account, list and all.
        await context.RouteAsync($"**/api/keys/%2B{bob.Session.UserId}/devices", route => route.FulfillAsync(new()
        {
            Status = 200, ContentType = "application/json", Body = withLaptop,
        }));
        await SecureTestDevice.LinkAsync(_server, bob, "tablet");
        await Assertions.Expect(page.Locator("#error")).ToHaveTextAsync($"the directory serves version 1 of the device list of +{bob.Session.UserId} after version 2");
    }

    [Fact]
    public async Task The_browser_seals_nothing_for_a_device_the_account_key_did_not_endorse()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        await SecureDevice.CreateAsync(_server.Api, bob);
        var chatId = (await _server.Api.OpenChatAsync(bob.AccessToken, "+" + alice.UserId)).ChatId;
        var context = await _browser.NewContextAsync();
        // The directory, lying: bob's listing gains a device whose endorsement is not the signature of bob's account key.
        await context.RouteAsync($"**/api/keys/%2B{bob.UserId}", async route =>
        {
            var response = await route.FetchAsync();
            var listing = System.Text.Json.Nodes.JsonNode.Parse(await response.TextAsync())!.AsObject();
            var forged = listing["devices"]![0]!.DeepClone().AsObject();
            forged["deviceId"] = 4;
            forged["identityKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            forged["primary"] = false;
            forged["accountSignature"] = Convert.ToBase64String(new byte[64]);
            listing["devices"]!.AsArray().Add(forged);
            await route.FulfillAsync(new() { Response = response, Body = listing.ToJsonString() });
        });
        var page = await OpenAsync(context, alice);

        await page.Locator($"[data-chat='{chatId}']").ClickAsync();
        await page.Locator("#text").FillAsync("for bob's devices only");
        await page.Locator("#composer button").ClickAsync();
        await Assertions.Expect(page.Locator("#error")).ToHaveTextAsync($"device 4 of +{bob.UserId} is not endorsed by the account's key");
        Assert.Empty((await _server.Api.GetMessagesAsync(bob.AccessToken, chatId)).Messages);
    }

    [Fact]
    public async Task The_page_s_service_worker_shows_a_push_with_what_it_says_and_the_page_asks_to_subscribe()
    {
        var alice = await _server.RegisterAsync();
        var context = await _browser.NewContextAsync();
        await context.GrantPermissionsAsync(["notifications"]);
        var page = await OpenAsync(context, alice);

        await page.Locator("#notify").ClickAsync();
        await Assertions.Expect(page.Locator("#notify-status")).Not.ToHaveTextAsync("subscribing…");
        // Chromium refuses push subscriptions in off-the-record contexts such as Playwright's ("permission denied"), and
        // this machine has no push service anyway: the page says why, with its service worker registered all the same.
        Assert.StartsWith("no notifications: Registration failed", await page.Locator("#notify-status").TextContentAsync());

        // A push as the browser hands it to the worker once decrypted, delivered through the DevTools protocol.
        var cdp = await context.NewCDPSessionAsync(page);
        var registered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        cdp.Event("ServiceWorker.workerRegistrationUpdated").OnEvent += (_, e) =>
        {
            foreach (var r in e!.Value.GetProperty("registrations").EnumerateArray())
                if (!r.GetProperty("isDeleted").GetBoolean()) registered.TrySetResult(r.GetProperty("registrationId").GetString()!);
        };
        await cdp.SendAsync("ServiceWorker.enable");
        var registrationId = await registered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cdp.SendAsync("ServiceWorker.deliverPushMessage", new()
        {
            ["origin"] = _server.BaseAddress.GetLeftPart(UriPartial.Authority), ["registrationId"] = registrationId,
            ["data"] = """{"title":"Natter","body":"New message from +15550001111","chatId":"d.15550001111.15550002222","seq":7,"notificationId":"n1"}""",
        });

        var shown = await Eventually.UntilAsync(() => page.EvaluateAsync<string[]>(
                "async () => (await (await navigator.serviceWorker.ready).getNotifications()).map(n => `${n.title}|${n.body}|${n.tag}`)"),
            n => n.Length > 0, TimeSpan.FromSeconds(30), "the notification");
        // Tagged per chat with a hash: the system keeps tags, and a direct chat's id names both phone numbers.
        var tag = "chat-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("d.15550001111.15550002222"u8))[..24];
        Assert.Equal([$"Natter|New message from +15550001111|{tag}"], shown);
    }

    /// <summary>A page linked to <paramref name="primary"/>'s account as a user links it: the phone scans the code the page shows.</summary>
    private async Task<IPage> LinkPageAsync(IBrowserContext context, SecureDevice primary)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(_server.BaseAddress.ToString());
        await page.Locator("#link-phone").FillAsync("+" + primary.Session.UserId);
        await page.Locator("#link button").ClickAsync();
        await Assertions.Expect(page.Locator("#link-code")).ToContainTextAsync("natter-link-v1:");
        await primary.ApproveLinkAsync((await page.Locator("#link-code").TextContentAsync())!);
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("online");
        return page;
    }

    private async Task<IPage> OpenAsync(IBrowserContext context, DeviceSession session)
    {
        var page = await context.NewPageAsync();
        var response = await page.GotoAsync($"{_server.BaseAddress}#token={Uri.EscapeDataString(session.AccessToken)}");
        // Private keys live in localStorage: the page may run its own origin's scripts only.
        Assert.Contains("script-src 'self'", (await response!.AllHeadersAsync())["content-security-policy"]);
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("online");
        return page;
    }
}
