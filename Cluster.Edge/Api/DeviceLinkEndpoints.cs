using Natter.Actors.Services;
using Natter.Cluster.Edge.Auth;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge;

/// <summary>
/// An existing device's side of linking: GET /api/devices/links lists the devices asking to join, POST
/// /api/devices/links/{linkId}/approve approves one with the code it shows. The asking side is in <see cref="AccountEndpoints"/>.
/// </summary>
public static class DeviceLinkEndpoints
{
    public sealed record PendingLinkView(string LinkId, string DeviceName, DateTimeOffset RequestedAt, DateTimeOffset ExpiresAt);

    public sealed record ApproveLinkRequest(string? ApprovalCode);

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
            var result = await users.ApproveLinkAsync(principal.User, principal.Device, linkId,
                AccountService.LinkHash(linkId, request.ApprovalCode), DateTimeOffset.UtcNow);
            return UserEndpoints.DevicesView(result, http);
        });
    }
}
