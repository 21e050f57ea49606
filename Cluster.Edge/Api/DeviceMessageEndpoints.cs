using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Protocol;
using Natter.Messages.Users;

namespace Natter.Cluster.Edge;

/// <summary>
/// Ciphertext between the devices of one account (a history transfer, docs/e2ee.md): POST
/// /api/devices/{deviceId}/messages queues one for another device of the caller's account, GET
/// /api/devices/messages lists the caller's, DELETE /api/devices/messages?upTo= acknowledges them.
/// </summary>
public static class DeviceMessageEndpoints
{
    public sealed record DeviceMessageRequest(byte[]? Data);

    public sealed record DeviceMessageSentView(long Id);

    public static void MapDeviceMessageEndpoints(this RouteGroupBuilder api)
    {
        api.MapPost("/devices/{deviceId:int}/messages", async (int deviceId, DeviceMessageRequest request, HttpContext http, UserGateway users) =>
        {
            if (request.Data is null) return ApiErrors.Result(ErrorCodes.MissingField, "'data' is required");
            var principal = http.Principal();
            var result = await users.SendDeviceMessageAsync(principal.User, principal.Device, new DeviceId(deviceId), request.Data, DateTimeOffset.UtcNow);
            return result.Ok
                ? Results.Json(new DeviceMessageSentView(result.Value!.Id), ProtocolJson.Options, statusCode: StatusCodes.Status201Created)
                : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        });

        api.MapGet("/devices/messages", async (HttpContext http, UserGateway users) =>
        {
            var principal = http.Principal();
            return InboxView(await users.DeviceInboxAsync(principal.User, principal.Device));
        });

        api.MapDelete("/devices/messages", async (long? upTo, HttpContext http, UserGateway users) =>
        {
            if (upTo is not >= 1) return ApiErrors.Result(ErrorCodes.InvalidField, "'upTo' must be a message id >= 1");
            var principal = http.Principal();
            return InboxView(await users.AckDeviceMessagesAsync(principal.User, principal.Device, upTo.Value));
        });
    }

    private static IResult InboxView(GatewayResult<UserReplies.DeviceInbox> result) => result.Ok
        ? Results.Json(result.Value!.Messages.Select(m => new DeviceMessageFrame(m.Id, m.From.Value, m.Data, m.At)).ToList(), ProtocolJson.Options)
        : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
}
