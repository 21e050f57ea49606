using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Natter.Actors.Notifications;
using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// Push notifications end to end: the real server, librdkafka's mock Kafka cluster (the real protocol on
/// 127.0.0.1) or the in-process default, and a local HTTP server standing in for FCM, APNs and email.
/// </summary>
public sealed class NotificationSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private const string Topic = "natter.notifications";

    private MockKafka _kafka = null!;
    private RecordingPushServer _push = null!;
    private readonly List<InProcessServer> _servers = new();

    public async Task InitializeAsync()
    {
        _kafka = new MockKafka();
        _push = await RecordingPushServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers) await server.DisposeAsync();
        await _push.DisposeAsync();
        _kafka.Dispose();
    }

    private async Task<InProcessServer> StartAsync(bool kafka = true, string collapse = "00:00:02", IDictionary<string, string?>? more = null,
        Action<IServiceCollection>? services = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Natter:Notifications:Push:FcmEndpoint"] = _push.BaseAddress,
            ["Natter:Notifications:Push:ApnsEndpoint"] = _push.Http2Address + "/apns",
            ["Natter:Notifications:Push:EmailEndpoint"] = _push.BaseAddress + "/email",
            ["Natter:Notifications:CollapseWindow"] = collapse,
        };
        foreach (var (key, value) in _push.Credentials.Settings()) settings[key] = value;
        if (kafka) settings["Natter:Notifications:KafkaBootstrapServers"] = _kafka.BootstrapServers;
        foreach (var (key, value) in more ?? new Dictionary<string, string?>()) settings[key] = value;
        var server = await InProcessServer.StartAsync(Journal.Sqlite(), overrides: settings, services: services);
        _servers.Add(server);
        return server;
    }

    private static async Task<(DeviceSession Sender, DeviceSession Recipient, string ChatId)> PairAsync(InProcessServer server, string platform, string pushToken)
    {
        var sender = await server.RegisterAsync();
        var recipient = await server.RegisterAsync();
        await server.Api.RegisterPushAsync(recipient.AccessToken, platform, pushToken);
        var chat = await server.Api.OpenChatAsync(sender.AccessToken, "+" + recipient.UserId);
        return (sender, recipient, chat.ChatId);
    }

    private static bool FcmFor(RecordingPushServer.Received r, string token) => r.Path.Contains("messages:send") && r.Body.Contains($"\"{token}\"");

    private static long SeqOf(RecordingPushServer.Received fcm) =>
        long.Parse(JsonDocument.Parse(fcm.Body).RootElement.GetProperty("message").GetProperty("data").GetProperty("seq").GetString()!);

    [Fact]
    public async Task An_offline_recipient_gets_exactly_one_notification_keyed_by_them_carrying_no_message_text()
    {
        var server = await StartAsync();
        var (alice, bob, chatId) = await PairAsync(server, "fcm", "bob-phone-token");
        var canary = $"canary-{Guid.NewGuid():N}";

        var ack = await server.Api.PostMessageAsync(alice.AccessToken, chatId, "m1", Encoding.UTF8.GetBytes(canary));

        var push = Assert.Single(await _push.WaitForAsync(r => FcmFor(r, "bob-phone-token"), 1, Wait));
        Assert.Equal(ack.Seq, SeqOf(push));
        Assert.DoesNotContain(canary, push.Body);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(canary)), push.Body);

        var records = (await _kafka.ReadAllAsync(Topic, TimeSpan.FromSeconds(1))).Where(r => r.Message.Key == bob.UserId).ToList();
        var record = Assert.Single(records);
        var value = Encoding.UTF8.GetString(record.Message.Value);
        Assert.Contains(chatId, value);
        Assert.DoesNotContain(canary, value);
        // Alice sent it: she is not notified.
        Assert.DoesNotContain(await _kafka.ReadAllAsync(Topic, TimeSpan.FromSeconds(1)), r => r.Message.Key == alice.UserId);
    }

    [Fact]
    public async Task Online_recipients_and_muted_chats_get_none_and_a_burst_collapses_into_one()
    {
        var server = await StartAsync(collapse: "00:00:08");
        var (aliceToCarol, carol, carolChat) = await PairAsync(server, "apns", "carol-token");
        var (aliceToDave, dave, daveChat) = await PairAsync(server, "fcm", "dave-token");
        var (aliceToErin, _, erinChat) = await PairAsync(server, "fcm", "erin-token");
        await using var carolOnline = await server.ConnectAsync(carol);
        await carolOnline.SyncAsync();
        await server.Api.MuteChatAsync(dave.AccessToken, daveChat);

        await server.Api.PostMessageAsync(aliceToCarol.AccessToken, carolChat, "to-online", [1]);
        await server.Api.PostMessageAsync(aliceToDave.AccessToken, daveChat, "to-muted", [1]);
        for (var i = 0; i < 5; i++) await server.Api.PostMessageAsync(aliceToErin.AccessToken, erinChat, $"burst-{i}", [1]);

        var burst = await _push.WaitForAsync(r => FcmFor(r, "erin-token"), 1, Wait);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Single(_push.Requests.Where(r => FcmFor(r, "erin-token")));
        Assert.Empty(_push.Requests.Where(r => r.Path.Contains("carol-token") || FcmFor(r, "dave-token")));

        // After the window, the next message is notified, counting what the burst held back.
        await Task.Delay(TimeSpan.FromSeconds(7));
        await server.Api.PostMessageAsync(aliceToErin.AccessToken, erinChat, "after-burst", [1]);
        var both = await _push.WaitForAsync(r => FcmFor(r, "erin-token"), 2, Wait);
        Assert.Contains("5 new messages", both[1].Body);
        Assert.Single(burst);
    }

    [Fact]
    public async Task A_Kafka_outage_delays_notifications_and_loses_none()
    {
        var server = await StartAsync(collapse: "00:00:00");
        var (alice, _, chatId) = await PairAsync(server, "fcm", "outage-token");
        await server.Api.PostMessageAsync(alice.AccessToken, chatId, "before", [0]);
        await _push.WaitForAsync(r => FcmFor(r, "outage-token"), 1, Wait);

        _kafka.BrokerDown();
        // Messages keep flowing while Kafka is away: each is acknowledged, durable in the journal.
        var acks = new List<long>();
        for (var i = 0; i < 10; i++) acks.Add((await server.Api.PostMessageAsync(alice.AccessToken, chatId, $"during-{i}", [1])).Seq);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var duringOutage = _push.Requests.Count(r => FcmFor(r, "outage-token"));
        _kafka.BrokerUp();

        var pushes = await _push.WaitForAsync(r => FcmFor(r, "outage-token"), 11, TimeSpan.FromSeconds(120));
        Assert.Equal(1, duringOutage);
        var seqs = pushes.Select(SeqOf).ToList();
        Assert.Equal(seqs.Distinct().Count(), seqs.Count);
        Assert.Equal(acks, seqs.Skip(1).Order());
    }

    [Fact]
    public async Task Without_Kafka_the_in_process_pipeline_notifies_by_every_registered_platform()
    {
        var server = await StartAsync(kafka: false);
        var (alice, bob, chatId) = await PairAsync(server, "email", "bob@example.org");
        await server.Api.RegisterPushAsync((await server.LinkDeviceAsync(bob, "ipad")).AccessToken, "apns", "bob-ipad");
        await server.Api.RegisterPushAsync((await server.LinkDeviceAsync(bob, "browser")).AccessToken, "webpush",
            _push.BaseAddress + "/webpush/subscription-1");

        await server.Api.PostMessageAsync(alice.AccessToken, chatId, "m1", [1]);

        var email = Assert.Single(await _push.WaitForAsync(r => r.Path == "/email", 1, Wait));
        Assert.Contains("bob@example.org", email.Body);
        var apns = Assert.Single(await _push.WaitForAsync(r => r.Path.StartsWith("/apns/3/device/bob-ipad"), 1, Wait));
        Assert.Equal(chatId, apns.Headers["apns-collapse-id"]);
        Assert.Equal("HTTP/2", apns.Protocol);
        // Without the subscription's keys Web Push carries no payload: it wakes the page.
        var webPush = Assert.Single(await _push.WaitForAsync(r => r.Path == "/webpush/subscription-1", 1, Wait));
        Assert.Equal("", webPush.Body);
        Assert.Equal("86400", webPush.Headers["TTL"]);
        // Nor a Topic: without the subscription's secret, any function of the chat id would give its members away.
        Assert.False(webPush.Headers.ContainsKey("Topic"));
        // Without VAPID keys nothing is signed, and browsers are told there is no key to subscribe with.
        Assert.False(webPush.Headers.ContainsKey("Authorization"));
        var noKey = await Assert.ThrowsAsync<NatterApiException>(() => server.Api.GetWebPushKeyAsync(alice.AccessToken));
        Assert.Equal(((int?)404, "not_configured"), (noKey.HttpStatus, noKey.Code));
    }

    [Fact]
    public async Task A_push_that_fails_unexpectedly_is_given_up_once_and_the_pushes_behind_it_go_out()
    {
        var broken = new BrokenAdapter("apns");
        // Retries of the source come soon here, so a request that kept coming back would be seen within the spec.
        var server = await StartAsync(more: new Dictionary<string, string?> { ["Natter:Notifications:MaxBackoff"] = "00:00:01.1" },
            services: s => s.AddSingleton<IPushAdapter>(broken));
        var (alice, _, bobChat) = await PairAsync(server, "apns", "bob-ipad");
        var (dave, _, carolChat) = await PairAsync(server, "fcm", "carol-phone");

        await server.Api.PostMessageAsync(alice.AccessToken, bobChat, "m1", [1]);
        await Eventually.UntilAsync(() => Task.FromResult(broken.Calls), calls => calls >= 1, Wait, "the broken adapter's call");
        await server.Api.PostMessageAsync(dave.AccessToken, carolChat, "m2", [2]);

        await _push.WaitForAsync(r => FcmFor(r, "carol-phone"), 1, Wait);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(1, broken.Calls);
    }

    [Fact]
    public async Task FCM_and_APNs_pushes_carry_credentials_minted_from_the_configured_keys_and_renewed_when_refused()
    {
        var server = await StartAsync(collapse: "00:00:00");
        var (alice, bob, chatId) = await PairAsync(server, "fcm", "bob-phone");
        await server.Api.RegisterPushAsync((await server.LinkDeviceAsync(bob, "ipad")).AccessToken, "apns", "bob-ipad");
        bool ToIpad(RecordingPushServer.Received r) => r.Path == "/apns/3/device/bob-ipad";

        await server.Api.PostMessageAsync(alice.AccessToken, chatId, "m1", [1]);
        var fcm = Assert.Single(await _push.WaitForAsync(r => FcmFor(r, "bob-phone"), 1, Wait));
        var apns = Assert.Single(await _push.WaitForAsync(ToIpad, 1, Wait));
        // The project is the service account's; the stand-in accepted only a token traded for its signed assertion.
        Assert.StartsWith($"/v1/projects/{ProviderCredentials.Project}/", fcm.Path);
        Assert.Equal(1, _push.Credentials.Trades);

        // Google revokes the access token; Apple calls the provider token expired (a clock behind Apple's).
        _push.Credentials.RevokeAccessTokens();
        _push.Credentials.ExpireProviderTokensSeen([apns.Headers["Authorization"]]);
        await server.Api.PostMessageAsync(alice.AccessToken, chatId, "m2", [2]);

        var fcmAgain = (await _push.WaitForAsync(r => FcmFor(r, "bob-phone"), 2, Wait))[1];
        var apnsAgain = (await _push.WaitForAsync(ToIpad, 2, Wait))[1];
        Assert.Equal(2L, SeqOf(fcmAgain));
        Assert.NotEqual(fcm.Headers["Authorization"], fcmAgain.Headers["Authorization"]);
        Assert.NotEqual(apns.Headers["Authorization"], apnsAgain.Headers["Authorization"]);
        Assert.Equal(2, _push.Credentials.Trades);
        Assert.Equal(2, _push.Refused.Count);
    }

    [Fact]
    public async Task A_registration_its_provider_calls_gone_is_removed_and_a_device_may_remove_its_own()
    {
        var server = await StartAsync(collapse: "00:00:00");
        var (alice, bob, chatId) = await PairAsync(server, "fcm", "bob-uninstalled");
        var ipad = await server.LinkDeviceAsync(bob, "ipad");
        await server.Api.RegisterPushAsync(ipad.AccessToken, "apns", "bob-ipad-gone");
        var browser = await server.LinkDeviceAsync(bob, "browser");
        await server.Api.RegisterPushAsync(browser.AccessToken, "webpush", _push.BaseAddress + "/webpush/expired");
        var laptop = await server.LinkDeviceAsync(bob, "laptop");
        await server.Api.RegisterPushAsync(laptop.AccessToken, "email", "bob@example.org");
        foreach (var gone in new[] { "bob-uninstalled", "bob-ipad-gone", "/webpush/expired" }) _push.Unregister(gone);

        await server.Api.PostMessageAsync(alice.AccessToken, chatId, "m1", [1]);

        await _push.WaitForAsync(r => r.Path == "/email", 1, Wait);
        await Eventually.UntilAsync(async () => (await server.Api.GetSettingsAsync(bob.AccessToken)).PushPlatforms,
            push => push.SequenceEqual(["email"]), Wait, "the gone registrations removed");
        Assert.Equal(3, _push.Refused.Count);

        // The laptop turns its notifications off; a phone that registers again is notified again.
        Assert.Empty((await server.Api.UnregisterPushAsync(laptop.AccessToken)).PushPlatforms);
        Assert.Empty((await server.Api.UnregisterPushAsync(laptop.AccessToken)).PushPlatforms);
        await server.Api.RegisterPushAsync(bob.AccessToken, "fcm", "bob-reinstalled");
        await server.Api.PostMessageAsync(alice.AccessToken, chatId, "m2", [2]);

        Assert.Equal(2L, SeqOf(Assert.Single(await _push.WaitForAsync(r => FcmFor(r, "bob-reinstalled"), 1, Wait))));
        Assert.Single(_push.Requests.Where(r => r.Path == "/email"));
        Assert.Equal(3, _push.Refused.Count);
    }

    [Fact]
    public async Task A_gone_answer_for_a_token_the_device_replaced_meanwhile_keeps_the_new_registration()
    {
        var adapter = new ReregisteringAdapter();
        var server = await StartAsync(collapse: "00:00:00", services: s => s.AddSingleton<IPushAdapter>(adapter));
        var (alice, bob, chatId) = await PairAsync(server, "email", "old@example.org");
        // The device registers its new address while the provider's answer about the old one is on its way.
        adapter.WhileRefusing = () => server.Api.RegisterPushAsync(bob.AccessToken, "email", "new@example.org");

        await server.Api.PostMessageAsync(alice.AccessToken, chatId, "m1", [1]);
        await Eventually.UntilAsync(() => Task.FromResult(adapter.Tokens.Count), count => count >= 1, Wait, "the push to the old address");
        await server.Api.PostMessageAsync(alice.AccessToken, chatId, "m2", [2]);

        await Eventually.UntilAsync(() => Task.FromResult(adapter.Tokens.Count), count => count >= 2, Wait, "the push to the new address");
        Assert.Equal(["old@example.org", "new@example.org"], adapter.Tokens);
        Assert.Equal(["email"], (await server.Api.GetSettingsAsync(bob.AccessToken)).PushPlatforms);
    }

    /// <summary>A provider that calls the first address gone, after the device replaced it.</summary>
    private sealed class ReregisteringAdapter : IPushAdapter
    {
        private readonly ConcurrentQueue<string> _tokens = new();

        public Func<Task>? WhileRefusing { get; set; }

        public IReadOnlyList<string> Tokens => _tokens.ToList();

        public string Platform => "email";

        public async Task SendAsync(Natter.Messages.Users.PushRegistration registration, PushNotification notification, CancellationToken ct)
        {
            _tokens.Enqueue(registration.Token);
            if (registration.Token != "old@example.org") return;
            await WhileRefusing!();
            throw new PushRegistrationGoneException(Platform, "Unregistered");
        }
    }

    /// <summary>A provider whose client fails in a way no retry mends (a bug, a bad key): not an HTTP answer.</summary>
    private sealed class BrokenAdapter(string platform) : IPushAdapter
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public string Platform => platform;

        public Task SendAsync(Natter.Messages.Users.PushRegistration registration, PushNotification notification, CancellationToken ct)
        {
            Interlocked.Increment(ref _calls);
            throw new ArgumentException("the adapter cannot build this request");
        }
    }

    [Fact]
    public async Task A_Web_Push_subscription_s_keys_make_the_push_carry_the_notification_encrypted_to_the_browser()
    {
        var server = await StartAsync(kafka: false);
        var (alice, bob, chatId) = await PairAsync(server, "webpush", _push.BaseAddress + "/webpush/subscription-3");
        using var browser = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = browser.ExportParameters(false).Q;
        var p256dh = Base64Url.EncodeToString([0x04, .. q.X!, .. q.Y!]);
        var auth = RandomNumberGenerator.GetBytes(16);

        // Keys that are not a P-256 point and a 16-byte secret are refused.
        var offCurve = Base64Url.EncodeToString([0x04, .. q.X!, .. q.X!]);
        foreach (var (key, secret) in new[] { (offCurve, Base64Url.EncodeToString(auth)), (p256dh, "c2hvcnQ"), (p256dh, "not base64 at all!") })
        {
            var refused = await Assert.ThrowsAsync<NatterApiException>(() =>
                server.Api.RegisterWebPushAsync(bob.AccessToken, _push.BaseAddress + "/webpush/subscription-3", key, secret));
            Assert.Equal(((int?)400, "invalid_field"), (refused.HttpStatus, refused.Code));
        }
        // An email address has no keys to encrypt to.
        var email = await Assert.ThrowsAsync<NatterApiException>(() =>
            server.Api.RegisterPushAsync(bob.AccessToken, "email", "bob@example.org", p256dh, Base64Url.EncodeToString(auth)));
        Assert.Equal(((int?)400, "invalid_field"), (email.HttpStatus, email.Code));
        // Standard base64 with padding (btoa) is taken too.
        await server.Api.RegisterWebPushAsync(bob.AccessToken, _push.BaseAddress + "/webpush/subscription-3", p256dh, Convert.ToBase64String(auth));

        var ack = await server.Api.PostMessageAsync(alice.AccessToken, chatId, "m1", [1]);

        var push = Assert.Single(await _push.WaitForAsync(r => r.Path == "/webpush/subscription-3", 1, Wait));
        Assert.Equal("aes128gcm", push.Headers["Content-Encoding"]);
        // The Topic is the chat's tag under the subscription's secret: the push service cannot tell the chat from it.
        Assert.Equal(Base64Url.EncodeToString(HMACSHA256.HashData(auth, Encoding.UTF8.GetBytes("natter-push-tag\0" + chatId)))[..22], push.Headers["Topic"]);
        var payload = JsonDocument.Parse(WebPushEncryption.Decrypt(push.Bytes, browser, auth)).RootElement;
        Assert.Equal((chatId, ack.Seq, $"New message from +{alice.UserId}"),
            (payload.GetProperty("chatId").GetString(), payload.GetProperty("seq").GetInt64(), payload.GetProperty("body").GetString()));
    }

    [Fact]
    public async Task With_the_app_s_push_keys_FCM_and_APNs_carry_the_notification_encrypted_and_no_chat_in_the_clear()
    {
        var server = await StartAsync(collapse: "00:00:00");
        var (alice, bob, chatId) = await PairAsync(server, "fcm", "bob-phone-plain");
        var ipad = await server.LinkDeviceAsync(bob, "ipad");
        using var phoneKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var ipadKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var (phoneAuth, ipadAuth) = (RandomNumberGenerator.GetBytes(16), RandomNumberGenerator.GetBytes(16));
        static string PublicOf(ECDiffieHellman key) => Base64Url.EncodeToString([0x04, .. key.ExportParameters(false).Q.X!, .. key.ExportParameters(false).Q.Y!]);
        await server.Api.RegisterPushAsync(bob.AccessToken, "fcm", "bob-phone", PublicOf(phoneKey), Base64Url.EncodeToString(phoneAuth));
        await server.Api.RegisterPushAsync(ipad.AccessToken, "apns", "bob-ipad", PublicOf(ipadKey), Base64Url.EncodeToString(ipadAuth));

        var ack = await server.Api.PostMessageAsync(alice.AccessToken, chatId, "m1", [1]);

        var fcm = Assert.Single(await _push.WaitForAsync(r => FcmFor(r, "bob-phone"), 1, Wait));
        var apns = Assert.Single(await _push.WaitForAsync(r => r.Path == "/apns/3/device/bob-ipad", 1, Wait));
        // Neither provider sees the chat, or either phone number, in what it carries.
        foreach (var push in new[] { fcm, apns })
        foreach (var secret in new[] { chatId, alice.UserId, bob.UserId })
            Assert.DoesNotContain(secret, push.Body + string.Join(" ", push.Headers.Values));
        string Tag(byte[] secret) => Base64Url.EncodeToString(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes("natter-push-tag\0" + chatId)))[..22];

        var message = JsonDocument.Parse(fcm.Body).RootElement.GetProperty("message");
        Assert.False(message.TryGetProperty("notification", out _));
        Assert.Equal(Tag(phoneAuth), message.GetProperty("android").GetProperty("collapse_key").GetString());
        // An iOS app registered with FCM gets an alert that says nothing, for its notification service extension to replace.
        Assert.Equal(1, message.GetProperty("apns").GetProperty("payload").GetProperty("aps").GetProperty("mutable-content").GetInt32());
        Assert.Equal(Tag(phoneAuth), message.GetProperty("apns").GetProperty("headers").GetProperty("apns-collapse-id").GetString());
        var fromFcm = JsonDocument.Parse(WebPushEncryption.Decrypt(
            Convert.FromBase64String(message.GetProperty("data").GetProperty("encrypted").GetString()!), phoneKey, phoneAuth)).RootElement;
        Assert.Equal((chatId, ack.Seq, $"New message from +{alice.UserId}"),
            (fromFcm.GetProperty("chatId").GetString(), fromFcm.GetProperty("seq").GetInt64(), fromFcm.GetProperty("body").GetString()));

        var aps = JsonDocument.Parse(apns.Body).RootElement;
        Assert.Equal(1, aps.GetProperty("aps").GetProperty("mutable-content").GetInt32());
        Assert.Equal("New message", aps.GetProperty("aps").GetProperty("alert").GetProperty("body").GetString());
        Assert.Equal((Tag(ipadAuth), Tag(ipadAuth)), (aps.GetProperty("aps").GetProperty("thread-id").GetString(), apns.Headers["apns-collapse-id"]));
        var fromApns = JsonDocument.Parse(WebPushEncryption.Decrypt(Convert.FromBase64String(aps.GetProperty("encrypted").GetString()!), ipadKey, ipadAuth)).RootElement;
        Assert.Equal((chatId, ack.Seq), (fromApns.GetProperty("chatId").GetString(), fromApns.GetProperty("seq").GetInt64()));
        // The phone's earlier registration, without keys, was replaced: nothing went to it.
        Assert.Empty(_push.Requests.Where(r => FcmFor(r, "bob-phone-plain")));
    }

    [Fact]
    public async Task Web_Push_is_signed_for_the_push_service_with_the_VAPID_key_browsers_subscribe_with()
    {
        using var vapid = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var server = await StartAsync(kafka: false, more: new Dictionary<string, string?>
        {
            ["Natter:Notifications:Push:WebPushVapidPrivateKey"] = vapid.ExportECPrivateKeyPem(),
            ["Natter:Notifications:Push:WebPushVapidSubject"] = "mailto:push-ops@natter.example",
        });
        var (alice, bob, chatId) = await PairAsync(server, "webpush", _push.BaseAddress + "/webpush/subscription-2");
        var point = vapid.ExportParameters(false).Q;
        var publicKey = Base64Url.EncodeToString([0x04, .. point.X!, .. point.Y!]);
        Assert.Equal(publicKey, await server.Api.GetWebPushKeyAsync(bob.AccessToken));

        var before = DateTimeOffset.UtcNow;
        await server.Api.PostMessageAsync(alice.AccessToken, chatId, "m1", [1]);
        var push = Assert.Single(await _push.WaitForAsync(r => r.Path == "/webpush/subscription-2", 1, Wait));

        // RFC 8292: "vapid t=<JWT>, k=<public key>", the JWT ES256 over the push service's origin.
        var authorization = push.Headers["Authorization"];
        Assert.StartsWith("vapid t=", authorization);
        var parts = authorization["vapid ".Length..].Split(", ").Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(publicKey, parts["k"]);
        var jwt = parts["t"].Split('.');
        Assert.Equal(3, jwt.Length);
        Assert.True(vapid.VerifyData(Encoding.ASCII.GetBytes(jwt[0] + "." + jwt[1]), Base64Url.DecodeFromChars(jwt[2]), HashAlgorithmName.SHA256),
            "the token's signature does not verify with the VAPID public key");
        var header = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt[0])).RootElement;
        Assert.Equal(("JWT", "ES256"), (header.GetProperty("typ").GetString(), header.GetProperty("alg").GetString()));
        var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt[1])).RootElement;
        Assert.Equal(new Uri(_push.BaseAddress).GetLeftPart(UriPartial.Authority), claims.GetProperty("aud").GetString());
        Assert.Equal("mailto:push-ops@natter.example", claims.GetProperty("sub").GetString());
        var expires = DateTimeOffset.FromUnixTimeSeconds(claims.GetProperty("exp").GetInt64());
        Assert.InRange(expires, before.AddHours(1), before.AddHours(24));
    }
}
