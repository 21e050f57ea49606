using Natter.Actors.Services;
using Natter.Client.Crypto;
using Natter.Messages;
using Natter.Messages.Protocol;
using Natter.Messages.Users;

namespace Natter.Cluster.Edge;

/// <summary>
/// PUT /api/devices/list: the primary device publishes the account's signed device list (docs/e2ee.md §7.2), as after it
/// removed a device; answers the account's listing as GET /api/keys/{phone}/devices does. An approval brings one too
/// (<see cref="DeviceLinkEndpoints"/>).
/// </summary>
public static class DeviceListEndpoints
{
    public static void MapDeviceListEndpoints(this RouteGroupBuilder api)
    {
        api.MapPut("/devices/list", async (DeviceListView? request, HttpContext http, UserGateway users) =>
        {
            var principal = http.Principal();
            var keyed = await users.KeyedDevicesAsync(principal.User);
            if (!keyed.Ok) return ApiErrors.Result(keyed.ErrorCode!, keyed.ErrorMessage!);
            var (list, refusal) = Checked(request, principal.User, keyed.Value!);
            if (refusal is not null) return refusal;
            return KeyEndpoints.DevicesView(await users.PublishDeviceListAsync(principal.User, principal.Device, list!, DateTimeOffset.UtcNow));
        });
    }

    /// <summary>
    /// The list, its signature checked against the primary's published identity key (the account key), or the refusal. The
    /// UserActor checks again that the key is still the primary's, and the version and the keys it names.
    /// </summary>
    public static (SignedDeviceList?, IResult?) Checked(DeviceListView? view, UserId user, UserReplies.KeyedDevices keyed)
    {
        if (view?.Keys is null || view.Signature is null)
            return (null, ApiErrors.Result(ErrorCodes.MissingField, "'version', 'keys' and 'signature' are required"));
        if (view.Version < 1) return (null, ApiErrors.Result(ErrorCodes.InvalidField, "'version' is a whole number from 1"));
        if (view.Keys.Count is 0 or > KeySignatures.MaxListedDevices || view.Keys.Any(k => k?.Length != KeySignatures.PublicKeySize))
            return (null, ApiErrors.Result(ErrorCodes.InvalidKey, "'keys' holds identity keys of 32 bytes"));
        if (keyed.Devices.FirstOrDefault(d => d.Primary) is not { } primary)
            return (null, ApiErrors.Result(ErrorCodes.KeysNotPublished, "the primary device has published no identity key to sign with"));
        if (!KeySignatures.VerifyDeviceList(primary.IdentityKey, user.Value, view.Version, view.Keys, view.Signature))
            return (null, ApiErrors.Result(ErrorCodes.InvalidKey, "'signature' is not the primary's identity key's signature of this device list"));
        return (new SignedDeviceList(view.Version, view.Keys, primary.IdentityKey, view.Signature), null);
    }
}
