using Natter.Actors.Services;
using Natter.Cluster.Edge.Auth;
using Natter.Client.Crypto;
using Natter.Messages;
using Natter.Messages.Protocol;
using Natter.Messages.Users;

namespace Natter.Cluster.Edge;

/// <summary>
/// An existing device's side of linking: GET /api/devices/links lists the devices asking to join, POST
/// /api/devices/links/{linkId}/approve approves one with the code it shows. The asking side is in <see cref="AccountEndpoints"/>.
/// </summary>
public static class DeviceLinkEndpoints
{
    public sealed record PendingLinkView(string LinkId, string DeviceName, DateTimeOffset RequestedAt, DateTimeOffset ExpiresAt);

    /// <summary>
    /// The approval; an end-to-end encrypting primary also endorses the identity key the new device's link code shows, and
    /// signs the account's device list with it (docs/e2ee.md §7.2).
    /// </summary>
    public sealed record ApproveLinkRequest(string? ApprovalCode, byte[]? IdentityKey = null, byte[]? AccountSignature = null, byte[]? LinkMac = null,
        DeviceListView? DeviceList = null);

    public static void MapDeviceLinkEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/devices/links", async (HttpContext http, UserGateway users) =>
        {
            var result = await users.PendingLinksAsync(http.Principal().User, DateTimeOffset.UtcNow);
            return result.Ok
                ? Results.Json(result.Value!.Links.Select(l => new PendingLinkView(l.LinkId, l.DeviceName, l.RequestedAt, l.ExpiresAt)), ProtocolJson.Options)
                : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        });

        api.MapPost("/devices/links/{linkId}/approve", async (string linkId, ApproveLinkRequest request, HttpContext http, UserGateway users) =>
        {
            if (string.IsNullOrEmpty(request.ApprovalCode)) return ApiErrors.Result(ErrorCodes.MissingField, "'approvalCode' is required");
            var principal = http.Principal();
            DeviceEndorsement? endorsement = null;
            SignedDeviceList? deviceList = null;
            if (request.IdentityKey is not null || request.AccountSignature is not null || request.LinkMac is not null || request.DeviceList is not null)
            {
                var (checkedEndorsement, checkedList, refusal) = await EndorsementAsync(request, principal.User, users);
                if (refusal is not null) return refusal;
                (endorsement, deviceList) = (checkedEndorsement, checkedList);
            }
            var result = await users.ApproveLinkAsync(principal.User, principal.Device, linkId,
                AccountService.LinkHash(linkId, request.ApprovalCode), DateTimeOffset.UtcNow, endorsement, deviceList);
            return UserEndpoints.DevicesView(result, http);
        });
    }

    /// <summary>
    /// The endorsement, and the device list if one came, checked against the primary's published identity key (the account
    /// key): the directory never hands out a device its account did not sign for. The UserActor checks again that the key is
    /// still the primary's.
    /// </summary>
    private static async Task<(DeviceEndorsement?, SignedDeviceList?, IResult?)> EndorsementAsync(ApproveLinkRequest r, UserId user, UserGateway users)
    {
        if (r.IdentityKey is null || r.AccountSignature is null || r.LinkMac is null)
            return (null, null, ApiErrors.Result(ErrorCodes.MissingField, "'identityKey', 'accountSignature' and 'linkMac' come together, and with 'deviceList'"));
        if (r.IdentityKey.Length != KeySignatures.PublicKeySize || r.LinkMac.Length != 32)
            return (null, null, ApiErrors.Result(ErrorCodes.InvalidKey, "'identityKey' is 32 bytes and 'linkMac' 32"));
        var keyed = await users.KeyedDevicesAsync(user);
        if (!keyed.Ok) return (null, null, ApiErrors.Result(keyed.ErrorCode!, keyed.ErrorMessage!));
        if (keyed.Value!.Devices.FirstOrDefault(d => d.Primary) is not { } primary)
            return (null, null, ApiErrors.Result(ErrorCodes.KeysNotPublished, "the primary device has published no identity key to endorse with"));
        if (!KeySignatures.VerifyDevice(primary.IdentityKey, user.Value, r.IdentityKey, r.AccountSignature))
            return (null, null, ApiErrors.Result(ErrorCodes.InvalidKey, "'accountSignature' is not the primary's identity key's signature of 'identityKey'"));
        var endorsement = new DeviceEndorsement(r.IdentityKey, primary.IdentityKey, r.AccountSignature, r.LinkMac);
        if (r.DeviceList is null) return (endorsement, null, null);
        var (list, refusal) = DeviceListEndpoints.Checked(r.DeviceList, user, keyed.Value);
        return (endorsement, list, refusal);
    }
}
