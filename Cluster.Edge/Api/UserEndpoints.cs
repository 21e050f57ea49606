using System.Buffers.Text;
using Natter.Actors.Notifications;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Protocol;
using Natter.Messages.Users;

namespace Natter.Cluster.Edge;

/// <summary>
/// Presence of another user (GET /api/users/{phone}/presence), the caller's settings (GET/PUT /api/settings),
/// muting a chat (PUT /api/chats/{chatId}/mute) and this device's push registration (PUT /api/devices/push).
/// </summary>
public static class UserEndpoints
{
    public sealed record PresenceView(string UserId, bool Visible, bool Online, DateTimeOffset? LastSeen);

    public sealed record MutedView(string ChatId, DateTimeOffset? Until);

    public sealed record SettingsView(string Theme, string LastSeen, bool Notifications, bool NotificationPreview,
        IReadOnlyList<MutedView> Muted, IReadOnlyList<string> PushPlatforms);

    public sealed record SettingsRequest(string? Theme, string? LastSeen, bool? Notifications, bool? NotificationPreview);

    public sealed record MuteRequest(bool? Muted, DateTimeOffset? Until);

    /// <param name="P256dh">A Web Push subscription's key (base64url, 65 bytes), with <paramref name="Auth"/> (16 bytes): pushes then carry an encrypted payload.</param>
    public sealed record PushRequest(string? Platform, string? Token, string? P256dh = null, string? Auth = null);

    /// <summary>A device of the account; <see cref="IdentityKey"/> is the identity key the primary endorsed for a linked device.</summary>
    public sealed record DeviceView(int DeviceId, string Name, DateTimeOffset LinkedAt, bool Primary, bool Current, byte[]? IdentityKey = null);

    public static void MapUserEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/users/{phone}/presence", async (string phone, HttpContext http, UserGateway users) =>
        {
            if (UserId.FromPhoneNumber(phone) is not { } target) return ApiErrors.Result(ErrorCodes.InvalidField, "not a phone number");
            var result = await users.PresenceAsync(http.Principal().User, target);
            return result.Ok
                ? Results.Json(new PresenceView(target.Value, result.Value!.Visible, result.Value.Online, result.Value.LastSeen), ProtocolJson.Options)
                : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        });

        api.MapGet("/settings", async (HttpContext http, UserGateway users) => ViewOf(await users.ProfileAsync(http.Principal().User)));

        api.MapPut("/settings", async (SettingsRequest request, HttpContext http, UserGateway users) =>
        {
            var user = http.Principal().User;
            var current = await users.ProfileAsync(user);
            if (!current.Ok) return ApiErrors.Result(current.ErrorCode!, current.ErrorMessage!);
            var settings = current.Value!.Settings;
            if (request.LastSeen is { } lastSeen)
            {
                if (lastSeen.Contains(',') || int.TryParse(lastSeen, out _)
                    || !Enum.TryParse<Visibility>(lastSeen, ignoreCase: true, out var visibility) || !Enum.IsDefined(visibility))
                    return ApiErrors.Result(ErrorCodes.InvalidField, "'lastSeen' must be everyone, contacts or nobody");
                settings = settings with { LastSeen = visibility };
            }
            settings = settings with
            {
                Theme = request.Theme ?? settings.Theme,
                Notifications = request.Notifications ?? settings.Notifications,
                NotificationPreview = request.NotificationPreview ?? settings.NotificationPreview,
            };
            return ViewOf(await users.ChangeSettingsAsync(user, settings, DateTimeOffset.UtcNow));
        });

        api.MapPut("/chats/{chatId}/mute", async (string chatId, MuteRequest request, HttpContext http, UserGateway users) =>
            ViewOf(await users.MuteAsync(http.Principal().User, new ChatId(chatId), request.Muted ?? true, request.Until)));

        api.MapGet("/devices", async (HttpContext http, UserGateway users) =>
            DevicesView(await users.DevicesAsync(http.Principal().User), http));

        api.MapDelete("/devices/{deviceId:int}", async (int deviceId, HttpContext http, UserGateway users) =>
        {
            var principal = http.Principal();
            return DevicesView(await users.RemoveDeviceAsync(principal.User, principal.Device, new DeviceId(deviceId), DateTimeOffset.UtcNow), http);
        });

        api.MapPut("/devices/push", async (PushRequest request, HttpContext http, UserGateway users) =>
        {
            if (string.IsNullOrEmpty(request.Platform) || string.IsNullOrEmpty(request.Token))
                return ApiErrors.Result(ErrorCodes.MissingField, "'platform' and 'token' are required");
            if (request.P256dh is not null || request.Auth is not null)
            {
                if (request.Platform == "email" || request.P256dh is null || request.Auth is null)
                    return ApiErrors.Result(ErrorCodes.InvalidField, "'p256dh' and 'auth' come together, and not with email");
                try
                {
                    // Stored as canonical base64url whatever alphabet and padding the browser's code used.
                    var (key, secret) = (DecodeAnyBase64(request.P256dh), DecodeAnyBase64(request.Auth));
                    WebPushEncryption.CheckSubscriptionKeys(key, secret);
                    request = request with { P256dh = Base64Url.EncodeToString(key), Auth = Base64Url.EncodeToString(secret) };
                }
                catch (Exception e) when (e is FormatException or ArgumentException or System.Security.Cryptography.CryptographicException)
                {
                    return ApiErrors.Result(ErrorCodes.InvalidField,
                        "'p256dh' must be a P-256 point (65 bytes, uncompressed) and 'auth' 16 bytes, both base64url, as a browser's PushSubscription gives them");
                }
            }
            var principal = http.Principal();
            return ViewOf(await users.RegisterPushAsync(principal.User, principal.Device, request.Platform, request.Token, request.P256dh, request.Auth));
        });

        // Idempotent: a device without a registration gets the settings as they are.
        api.MapDelete("/devices/push", async (HttpContext http, UserGateway users) =>
        {
            var principal = http.Principal();
            return ViewOf(await users.UnregisterPushAsync(principal.User, principal.Device));
        });

        // The key a browser subscribes to Web Push with (its applicationServerKey), so pushes signed with it are taken.
        api.MapGet("/devices/push/webpush-key", (WebPushApplicationKey key) => key.PublicKey is { } publicKey
            ? Results.Json(new { publicKey }, ProtocolJson.Options)
            : ApiErrors.Result(ErrorCodes.NotConfigured, "Web Push has no VAPID key on this server (Natter:Notifications:Push:WebPushVapidPublicKey)"));
    }

    private static byte[] DecodeAnyBase64(string value) => Base64Url.DecodeFromChars(value.Replace('+', '-').Replace('/', '_').TrimEnd('='));

    public static IResult DevicesView(GatewayResult<UserReplies.Account> result, HttpContext http)
    {
        if (!result.Ok) return ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        var devices = result.Value!.Devices;
        var current = http.Principal().Device;
        return Results.Json(devices.Select((d, i) => new DeviceView(d.Id.Value, d.Name, d.LinkedAt, i == 0, d.Id == current, d.Endorsement?.IdentityKey)),
            ProtocolJson.Options);
    }

    private static IResult ViewOf(GatewayResult<UserReplies.Profile> result)
    {
        if (!result.Ok) return ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        var p = result.Value!;
        return Results.Json(new SettingsView(p.Settings.Theme, p.Settings.LastSeen.ToString().ToLowerInvariant(), p.Settings.Notifications,
            p.Settings.NotificationPreview, p.Muted.Select(m => new MutedView(m.ChatId.Value, m.Until)).ToList(),
            p.Push.Select(r => r.Platform).Distinct().ToList()), ProtocolJson.Options);
    }
}
