using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Natter.Messages.Protocol;

namespace Natter.Client;

public sealed record RegistrationStarted(string UserId, DateTimeOffset ExpiresAt);

/// <summary>A device's credentials; a linked device's also carry the primary's endorsement of its identity key, if it gave one.</summary>
public sealed record DeviceSession(string UserId, int DeviceId, string AccessToken, DateTimeOffset ExpiresAt, bool NewAccount,
    DeviceEndorsementView? Endorsement = null);

public sealed record ReceiptsView(string UserId, long DeliveredSeq, long ReadSeq);

public sealed record ChatView(string ChatId, string Kind, IReadOnlyList<string> Members, long LastSeq,
    DateTimeOffset? LastMessageAt, long ReadSeq, long Unread, IReadOnlyList<ReceiptsView> Receipts, string? Name = null);

public sealed record GroupView(string GroupId, string Name, IReadOnlyList<string> Members, IReadOnlyList<string> Admins,
    bool IsMember, long LastSeq, DateTimeOffset? LastMessageAt, long ReadSeq, long Unread, long DeliveredToAll, long ReadByAll);

/// <summary>The answer of POST /api/groups: <see cref="Ok"/> is the case study's boolean.</summary>
public sealed record GroupActionResult(bool Ok, string Action, string GroupId, long Seq, string? InviteCode);

public sealed record OpenedChat(string ChatId, string Peer);

public sealed record MessagePageView(string ChatId, IReadOnlyList<MessageFrame> Messages, bool HasMore, long? NextBefore);

public sealed record PresenceView(string UserId, bool Visible, bool Online, DateTimeOffset? LastSeen);

public sealed record MutedView(string ChatId, DateTimeOffset? Until);

public sealed record WebPushKeyView(string PublicKey);

public sealed record SettingsView(string Theme, string LastSeen, bool Notifications, bool NotificationPreview,
    IReadOnlyList<MutedView> Muted, IReadOnlyList<string> PushPlatforms);

/// <summary>A device of the account; <see cref="IdentityKey"/> is the identity key the primary endorsed for a linked device.</summary>
public sealed record DeviceView(int DeviceId, string Name, DateTimeOffset LinkedAt, bool Primary, bool Current, byte[]? IdentityKey = null);

public sealed record StoredMedia(string Id, long Size, string Sha256, string ContentType);

public sealed record MediaUpload(string UploadId, long Received, long Size);

/// <summary>The account's current backup: an upload of its own, downloaded with GET /api/media/{MediaId}.</summary>
public sealed record BackupView(string MediaId, long Size, int DeviceId, DateTimeOffset StoredAt);

/// <summary>A device asking to be linked: it shows <see cref="ApprovalCode"/> to an existing device and keeps <see cref="DeviceSecret"/>.</summary>
public sealed record LinkRequest(string LinkId, string ApprovalCode, string DeviceSecret, DateTimeOffset ExpiresAt);

public sealed record PendingLinkView(string LinkId, string DeviceName, DateTimeOffset RequestedAt, DateTimeOffset ExpiresAt);

/// <summary>Natter's REST API (/api), typed. Failures throw <see cref="NatterApiException"/> with the server's code.</summary>
public sealed class NatterHttpClient(HttpClient http)
{
    public Uri BaseAddress => http.BaseAddress!;

    public Task<RegistrationStarted> RegisterAsync(string phone, CancellationToken ct = default) =>
        SendAsync<RegistrationStarted>(HttpMethod.Post, "api/accounts/register", null, new { phone }, ct);

    public Task<DeviceSession> VerifyAsync(string phone, string code, string deviceName, CancellationToken ct = default) =>
        SendAsync<DeviceSession>(HttpMethod.Post, "api/accounts/verify", null, new { phone, code, deviceName }, ct);

    public Task<OpenedChat> OpenChatAsync(string token, string peer, CancellationToken ct = default) =>
        SendAsync<OpenedChat>(HttpMethod.Post, "api/chats", token, new { peer }, ct);

    public Task<List<ChatView>> GetChatsAsync(string token, CancellationToken ct = default) =>
        SendAsync<List<ChatView>>(HttpMethod.Get, "api/chats", token, null, ct);

    public Task<MessagePageView> GetMessagesAsync(string token, string chatId, long? before = null, int? limit = null, CancellationToken ct = default)
    {
        var query = $"api/messages?chatId={Uri.EscapeDataString(chatId)}"
                    + (before is null ? "" : $"&before={before}") + (limit is null ? "" : $"&limit={limit}");
        return SendAsync<MessagePageView>(HttpMethod.Get, query, token, null, ct);
    }

    public Task<List<GroupView>> GetGroupsAsync(string token, CancellationToken ct = default) =>
        SendAsync<List<GroupView>>(HttpMethod.Get, "api/groups", token, null, ct);

    /// <summary>POST /api/groups: create, join, leave, add, remove, promote, demote, rename, reset_invite.</summary>
    public Task<GroupActionResult> GroupAsync(string token, string action, string? groupId = null, string? userId = null,
        IReadOnlyList<string>? userIds = null, string? name = null, string? inviteCode = null, CancellationToken ct = default) =>
        SendAsync<GroupActionResult>(HttpMethod.Post, "api/groups", token, new { action, groupId, userId, userIds, name, inviteCode }, ct);

    public Task<MessagePageView> GetGroupMessagesAsync(string token, string groupId, long? before = null, int? limit = null, CancellationToken ct = default)
    {
        var query = $"api/messages?groupId={Uri.EscapeDataString(groupId)}"
                    + (before is null ? "" : $"&before={before}") + (limit is null ? "" : $"&limit={limit}");
        return SendAsync<MessagePageView>(HttpMethod.Get, query, token, null, ct);
    }

    public Task<MessageInfoFrame> GetMessageInfoAsync(string token, string chatId, long seq, CancellationToken ct = default) =>
        SendAsync<MessageInfoFrame>(HttpMethod.Get, $"api/messages/info?chatId={Uri.EscapeDataString(chatId)}&seq={seq}", token, null, ct);

    public Task<AckFrame> PostGroupMessageAsync(string token, string groupId, string clientMsgId, byte[] body, CancellationToken ct = default) =>
        SendAsync<AckFrame>(HttpMethod.Post, "api/messages", token,
            new { groupId, clientMsgId, body = Convert.ToBase64String(body) }, ct);

    public Task<List<DeviceView>> GetDevicesAsync(string token, CancellationToken ct = default) =>
        SendAsync<List<DeviceView>>(HttpMethod.Get, "api/devices", token, null, ct);

    /// <summary>Removes a device (the primary removes any other; a linked device only itself); answers the devices left.</summary>
    public Task<List<DeviceView>> RemoveDeviceAsync(string token, int deviceId, CancellationToken ct = default) =>
        SendAsync<List<DeviceView>>(HttpMethod.Delete, $"api/devices/{deviceId}", token, null, ct);

    public Task<PresenceView> GetPresenceAsync(string token, string phone, CancellationToken ct = default) =>
        SendAsync<PresenceView>(HttpMethod.Get, $"api/users/{Uri.EscapeDataString(phone)}/presence", token, null, ct);

    public Task<SettingsView> GetSettingsAsync(string token, CancellationToken ct = default) =>
        SendAsync<SettingsView>(HttpMethod.Get, "api/settings", token, null, ct);

    /// <summary>Changes only the settings given (null leaves one as it is). <paramref name="lastSeen"/>: everyone, contacts, nobody.</summary>
    public Task<SettingsView> PutSettingsAsync(string token, string? theme = null, string? lastSeen = null, bool? notifications = null,
        bool? notificationPreview = null, CancellationToken ct = default) =>
        SendAsync<SettingsView>(HttpMethod.Put, "api/settings", token, new { theme, lastSeen, notifications, notificationPreview }, ct);

    public Task<SettingsView> MuteChatAsync(string token, string chatId, bool muted = true, DateTimeOffset? until = null, CancellationToken ct = default) =>
        SendAsync<SettingsView>(HttpMethod.Put, $"api/chats/{Uri.EscapeDataString(chatId)}/mute", token, new { muted, until }, ct);

    /// <summary>Where this device (the token's) gets push notifications: fcm, apns, webpush or email, and its token/address.</summary>
    public Task<SettingsView> RegisterPushAsync(string token, string platform, string pushToken, CancellationToken ct = default) =>
        SendAsync<SettingsView>(HttpMethod.Put, "api/devices/push", token, new { platform, token = pushToken }, ct);

    /// <summary>
    /// As <see cref="RegisterPushAsync(string, string, string, CancellationToken)"/>, with the device's push keys
    /// (base64url: a P-256 public key and a 16-byte secret the app keeps, as RFC 8291 has them; not for email): pushes then
    /// carry the notification encrypted to them and nothing about the chat in the clear.
    /// </summary>
    public Task<SettingsView> RegisterPushAsync(string token, string platform, string pushToken, string p256dh, string auth, CancellationToken ct = default) =>
        SendAsync<SettingsView>(HttpMethod.Put, "api/devices/push", token, new { platform, token = pushToken, p256dh, auth }, ct);

    /// <summary>This device (the token's) gets no more push notifications; nothing happens if it had no registration.</summary>
    public Task<SettingsView> UnregisterPushAsync(string token, CancellationToken ct = default) =>
        SendAsync<SettingsView>(HttpMethod.Delete, "api/devices/push", token, null, ct);

    /// <summary>A Web Push subscription with its keys (base64url, as PushSubscription.toJSON() gives them): pushes then carry an encrypted payload.</summary>
    public Task<SettingsView> RegisterWebPushAsync(string token, string endpoint, string p256dh, string auth, CancellationToken ct = default) =>
        SendAsync<SettingsView>(HttpMethod.Put, "api/devices/push", token, new { platform = "webpush", token = endpoint, p256dh, auth }, ct);

    /// <summary>The server's VAPID public key (base64url) for a browser's Web Push subscription; 404 not_configured without one.</summary>
    public async Task<string> GetWebPushKeyAsync(string token, CancellationToken ct = default) =>
        (await SendAsync<WebPushKeyView>(HttpMethod.Get, "api/devices/push/webpush-key", token, null, ct)).PublicKey;

    /// <summary>Uploads a whole file as one streamed request; <paramref name="sha256"/> (hex) is checked by the server.</summary>
    public async Task<StoredMedia> UploadMediaAsync(string token, Stream content, string contentType, string sha256, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/media") { Content = new StreamContent(content, 64 * 1024) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        request.Headers.Add("X-Content-SHA256", sha256);
        // The server may refuse (size, quota) before reading: then the body is never sent.
        request.Headers.ExpectContinue = true;
        return await SendRawAsync<StoredMedia>(request, token, ct);
    }

    public Task<MediaUpload> BeginUploadAsync(string token, long size, string contentType, string sha256, CancellationToken ct = default) =>
        SendAsync<MediaUpload>(HttpMethod.Post, "api/media/uploads", token, new { size, contentType, sha256 }, ct);

    public Task<MediaUpload> UploadStatusAsync(string token, string uploadId, CancellationToken ct = default) =>
        SendAsync<MediaUpload>(HttpMethod.Get, $"api/media/uploads/{uploadId}", token, null, ct);

    /// <summary>Sends the chunk that starts at <paramref name="offset"/> (which must be what the server holds).</summary>
    public async Task<MediaUpload> AppendUploadAsync(string token, string uploadId, long offset, HttpContent chunk, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"api/media/uploads/{uploadId}") { Content = chunk };
        request.Headers.Add("Upload-Offset", offset.ToString());
        return await SendRawAsync<MediaUpload>(request, token, ct);
    }

    public Task<StoredMedia> CompleteUploadAsync(string token, string uploadId, CancellationToken ct = default) =>
        SendAsync<StoredMedia>(HttpMethod.Post, $"api/media/uploads/{uploadId}/complete", token, null, ct);

    // The account's backup (docs/protocol.md §14.7; SecureDevice.BackupAsync makes and restores one).

    /// <summary>The current backup; <c>no_backup</c> (404) when there is none.</summary>
    public Task<BackupView> GetBackupAsync(string token, CancellationToken ct = default) =>
        SendAsync<BackupView>(HttpMethod.Get, "api/backup", token, null, ct);

    /// <summary>Makes an upload of this account (<paramref name="mediaId"/>) its backup, replacing the earlier one.</summary>
    public Task<BackupView> PutBackupAsync(string token, string mediaId, CancellationToken ct = default) =>
        SendAsync<BackupView>(HttpMethod.Put, "api/backup", token, new { mediaId }, ct);

    public async Task DeleteBackupAsync(string token, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, "api/backup");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode) throw await ErrorOf(response, ct);
    }

    /// <summary>GET /api/media/{id}: the caller reads (and disposes) the response; a refusal throws.</summary>
    public async Task<HttpResponseMessage> DownloadMediaAsync(string token, string id, string? chatId = null, long? seq = null,
        RangeHeaderValue? range = null, CancellationToken ct = default)
    {
        var path = $"api/media/{id}" + (chatId is null ? "" : $"?chatId={Uri.EscapeDataString(chatId)}&seq={seq}");
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Range = range;
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.IsSuccessStatusCode) return response;
        using (response) throw await ErrorOf(response, ct);
    }

    public Task<AckFrame> PostMessageAsync(string token, string chatId, string clientMsgId, byte[] body, CancellationToken ct = default,
        MediaFrame? media = null, IReadOnlyList<EnvelopeFrame>? envelopes = null) =>
        SendAsync<AckFrame>(HttpMethod.Post, "api/messages", token,
            new { chatId, clientMsgId, body = Convert.ToBase64String(body), media, envelopes }, ct);

    // Linking a device: the new device asks, an existing one approves, the new one collects its session.

    public Task<LinkRequest> RequestLinkAsync(string phone, string deviceName, CancellationToken ct = default) =>
        SendAsync<LinkRequest>(HttpMethod.Post, "api/accounts/link", null, new { phone, deviceName }, ct);

    public Task<List<PendingLinkView>> GetPendingLinksAsync(string token, CancellationToken ct = default) =>
        SendAsync<List<PendingLinkView>>(HttpMethod.Get, "api/devices/links", token, null, ct);

    public Task<List<DeviceView>> ApproveLinkAsync(string token, string linkId, string approvalCode, CancellationToken ct = default) =>
        SendAsync<List<DeviceView>>(HttpMethod.Post, $"api/devices/links/{Uri.EscapeDataString(linkId)}/approve", token, new { approvalCode }, ct);

    /// <summary>Approves the link and endorses the new device's identity key (what <c>SecureDevice.ApproveLinkAsync</c> sends).</summary>
    public Task<List<DeviceView>> ApproveLinkAsync(string token, string linkId, string approvalCode, byte[] identityKey, byte[] accountSignature,
        byte[] linkMac, CancellationToken ct = default) =>
        SendAsync<List<DeviceView>>(HttpMethod.Post, $"api/devices/links/{Uri.EscapeDataString(linkId)}/approve", token,
            new { approvalCode, identityKey, accountSignature, linkMac }, ct);

    /// <summary>
    /// Approves the link, endorses the new device's identity key and publishes the account's device list with it in (what
    /// <c>SecureDevice.ApproveLinkAsync</c> sends).
    /// </summary>
    public Task<List<DeviceView>> ApproveLinkAsync(string token, string linkId, string approvalCode, byte[] identityKey, byte[] accountSignature,
        byte[] linkMac, DeviceListView deviceList, CancellationToken ct = default) =>
        SendAsync<List<DeviceView>>(HttpMethod.Post, $"api/devices/links/{Uri.EscapeDataString(linkId)}/approve", token,
            new { approvalCode, identityKey, accountSignature, linkMac, deviceList }, ct);

    /// <summary>The primary publishes the account's signed device list (docs/e2ee.md §7.2); answers the account's listing.</summary>
    public Task<UserDevicesView> PublishDeviceListAsync(string token, DeviceListView deviceList, CancellationToken ct = default) =>
        SendAsync<UserDevicesView>(HttpMethod.Put, "api/devices/list", token, deviceList, ct);

    /// <summary>Throws <c>link_pending</c> until an existing device approved the link.</summary>
    public Task<DeviceSession> CompleteLinkAsync(string linkId, string deviceSecret, CancellationToken ct = default) =>
        SendAsync<DeviceSession>(HttpMethod.Post, $"api/accounts/link/{Uri.EscapeDataString(linkId)}/complete", null, new { deviceSecret }, ct);

    // Ciphertext between the devices of one account (a history transfer).

    public async Task<long> SendDeviceMessageAsync(string token, int toDevice, byte[] data, CancellationToken ct = default) =>
        (await SendAsync<DeviceMessageSent>(HttpMethod.Post, $"api/devices/{toDevice}/messages", token, new { data }, ct)).Id;

    public Task<List<DeviceMessageFrame>> GetDeviceMessagesAsync(string token, CancellationToken ct = default) =>
        SendAsync<List<DeviceMessageFrame>>(HttpMethod.Get, "api/devices/messages", token, null, ct);

    public Task<List<DeviceMessageFrame>> AckDeviceMessagesAsync(string token, long upTo, CancellationToken ct = default) =>
        SendAsync<List<DeviceMessageFrame>>(HttpMethod.Delete, $"api/devices/messages?upTo={upTo}", token, null, ct);

    private sealed record DeviceMessageSent(long Id);

    // The key directory (docs/e2ee.md).

    public Task<KeysStatusView> PublishKeysAsync(string token, PublishKeysRequest keys, CancellationToken ct = default) =>
        SendAsync<KeysStatusView>(HttpMethod.Put, "api/keys", token, keys, ct);

    public Task<KeysStatusView> GetKeysStatusAsync(string token, CancellationToken ct = default) =>
        SendAsync<KeysStatusView>(HttpMethod.Get, "api/keys", token, null, ct);

    /// <summary>A bundle for every keyed device of <paramref name="phone"/>'s account; each takes one of its one-time prekeys.</summary>
    public Task<UserBundlesView> GetBundlesAsync(string token, string phone, CancellationToken ct = default) =>
        SendAsync<UserBundlesView>(HttpMethod.Get, $"api/keys/{Uri.EscapeDataString(phone)}", token, null, ct);

    /// <summary>The identities of <paramref name="phone"/>'s keyed devices; takes no prekeys.</summary>
    public Task<UserDevicesView> GetDeviceIdentitiesAsync(string token, string phone, CancellationToken ct = default) =>
        SendAsync<UserDevicesView>(HttpMethod.Get, $"api/keys/{Uri.EscapeDataString(phone)}/devices", token, null, ct);

    public Task<PreKeyBundleView> GetBundleAsync(string token, string phone, int deviceId, CancellationToken ct = default) =>
        SendAsync<PreKeyBundleView>(HttpMethod.Get, $"api/keys/{Uri.EscapeDataString(phone)}/{deviceId}", token, null, ct);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, string? token, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, options: ProtocolJson.Options);
        return await SendRawAsync<T>(request, token, ct);
    }

    private async Task<T> SendRawAsync<T>(HttpRequestMessage request, string? token, CancellationToken ct)
    {
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct);
        if (response.IsSuccessStatusCode)
            return (await response.Content.ReadFromJsonAsync<T>(ProtocolJson.Options, ct))!;
        throw await ErrorOf(response, ct);
    }

    private sealed record ErrorDetail(string Code, string Message, IReadOnlyList<DeviceRef>? Missing, IReadOnlyList<DeviceRef>? Extra,
        IReadOnlyList<DeviceRef>? Changed = null);

    private static async Task<NatterApiException> ErrorOf(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            using var doc = JsonDocument.Parse(text);
            var error = doc.RootElement.GetProperty("error").Deserialize<ErrorDetail>(ProtocolJson.Options)!;
            return new NatterApiException(error.Code, error.Message, (int)response.StatusCode, error.Missing, error.Extra,
                response.Headers.RetryAfter?.Delta, error.Changed);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new NatterApiException("http_" + (int)response.StatusCode, text, (int)response.StatusCode);
        }
    }
}
