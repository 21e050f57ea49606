using Natter.Actors.Services;
using Natter.Client.Crypto;
using Natter.Messages;
using Natter.Messages.Protocol;
using Natter.Messages.Users;

namespace Natter.Cluster.Edge;

/// <summary>
/// The key directory (docs/e2ee.md): PUT /api/keys publishes the calling device's keys, GET /api/keys
/// shows what is left, GET /api/keys/{phone}[/{deviceId}] hands out prekey bundles (one one-time prekey each),
/// GET /api/keys/{phone}/devices lists the keyed devices' identities without handing out anything. Listings carry the
/// account's signed device list (<see cref="DeviceListEndpoints"/>).
/// </summary>
public static class KeyEndpoints
{
    public static void MapKeyEndpoints(this RouteGroupBuilder api)
    {
        api.MapPut("/keys", async (PublishKeysRequest request, HttpContext http, UserGateway users) =>
        {
            if (Refusal(request) is { } refusal) return refusal;
            var principal = http.Principal();
            var publish = new UserCommands.PublishKeys(principal.User, principal.Device, request.IdentityKey!, request.IdentityDhKey!,
                request.IdentityDhSignature!, new SignedPreKey(request.SignedPreKey!.Id, request.SignedPreKey.PublicKey, request.SignedPreKey.Signature),
                (request.OneTimePreKeys ?? []).Select(k => new OneTimePreKey(k.Id, k.PublicKey)).ToList(), DateTimeOffset.UtcNow);
            return StatusView(await users.PublishKeysAsync(publish));
        });

        api.MapGet("/keys", async (HttpContext http, UserGateway users) =>
        {
            var principal = http.Principal();
            return StatusView(await users.KeysStatusAsync(principal.User, principal.Device));
        });

        api.MapGet("/keys/{phone}", async (string phone, HttpContext http, UserGateway users, BundleClaimLimiter limiter) =>
        {
            if (UserId.FromPhoneNumber(phone) is not { } target) return ApiErrors.Result(ErrorCodes.InvalidField, "not a phone number");
            if (!limiter.TryTake(http.Principal().User.Value)) return limiter.Refusal;
            var result = await users.ClaimBundlesAsync(target, null, DateTimeOffset.UtcNow);
            return result.Ok
                ? Results.Json(new UserBundlesView(target.Value, result.Value!.Items.Select(ViewOf).ToList(), ViewOf(result.Value.DeviceList)), ProtocolJson.Options)
                : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        });

        api.MapGet("/keys/{phone}/devices", async (string phone, UserGateway users) =>
        {
            if (UserId.FromPhoneNumber(phone) is not { } target) return ApiErrors.Result(ErrorCodes.InvalidField, "not a phone number");
            var result = await users.KeyedDevicesAsync(target);
            if (result.Ok && !result.Value!.Exists) return ApiErrors.Result(ErrorCodes.UnknownUser, "no such account");
            return DevicesView(result);
        });

        api.MapGet("/keys/{phone}/{deviceId:int}", async (string phone, int deviceId, HttpContext http, UserGateway users, BundleClaimLimiter limiter) =>
        {
            if (UserId.FromPhoneNumber(phone) is not { } target) return ApiErrors.Result(ErrorCodes.InvalidField, "not a phone number");
            if (!limiter.TryTake(http.Principal().User.Value)) return limiter.Refusal;
            var result = await users.ClaimBundlesAsync(target, new DeviceId(deviceId), DateTimeOffset.UtcNow);
            return result.Ok
                ? Results.Json(ViewOf(result.Value!.Items.Single()), ProtocolJson.Options)
                : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        });
    }

    /// <summary>Shapes and signatures are checked here, so the directory never hands out a forged prekey.</summary>
    private static IResult? Refusal(PublishKeysRequest r)
    {
        if (r.IdentityKey is null || r.IdentityDhKey is null || r.IdentityDhSignature is null || r.SignedPreKey?.PublicKey is null || r.SignedPreKey.Signature is null)
            return ApiErrors.Result(ErrorCodes.MissingField, "'identityKey', 'identityDhKey', 'identityDhSignature' and 'signedPreKey' are required");
        if (r.IdentityKey.Length != 32 || r.IdentityDhKey.Length != 32 || r.SignedPreKey.PublicKey.Length != 32)
            return ApiErrors.Result(ErrorCodes.InvalidKey, "public keys are 32 bytes");
        if (!KeySignatures.VerifyIdentityDh(r.IdentityKey, r.IdentityDhKey, r.IdentityDhSignature))
            return ApiErrors.Result(ErrorCodes.InvalidKey, "'identityDhSignature' is not the identity key's signature of the X25519 identity key");
        if (!KeySignatures.VerifySignedPreKey(r.IdentityKey, r.SignedPreKey.Id, r.SignedPreKey.PublicKey, r.SignedPreKey.Signature))
            return ApiErrors.Result(ErrorCodes.InvalidKey, "the signed prekey's signature does not verify with the identity key");
        return null;
    }

    private static IResult StatusView(GatewayResult<UserReplies.KeysStatus> result) => result.Ok
        ? Results.Json(new KeysStatusView(result.Value!.Device.Value, result.Value.Published, result.Value.SignedPreKeyId,
            result.Value.OneTimePreKeysLeft, result.Value.OneTimePreKeyIds), ProtocolJson.Options)
        : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);

    /// <summary>A user's keyed devices and signed device list, as listed by GET /api/keys/{phone}/devices.</summary>
    public static IResult DevicesView(GatewayResult<UserReplies.KeyedDevices> result) => result.Ok
        ? Results.Json(new UserDevicesView(result.Value!.UserId.Value, result.Value.Devices
            .Select(d => new DeviceIdentityView(d.Device.Value, d.IdentityKey, d.IdentityDhKey, d.IdentityDhSignature, d.Primary, d.AccountSignature))
            .ToList(), ViewOf(result.Value.DeviceList)), ProtocolJson.Options)
        : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);

    private static DeviceListView? ViewOf(SignedDeviceList? list) => list is null ? null : new(list.Version, list.Keys, list.Signature);

    private static PreKeyBundleView ViewOf(PreKeyBundle b) => new(b.UserId.Value, b.Device.Value, b.IdentityKey, b.IdentityDhKey,
        b.IdentityDhSignature, new SignedPreKeyView(b.SignedPreKey.Id, b.SignedPreKey.PublicKey, b.SignedPreKey.Signature),
        b.OneTimePreKey is { } o ? new OneTimePreKeyView(o.Id, o.PublicKey) : null, b.Primary, b.AccountSignature);
}
