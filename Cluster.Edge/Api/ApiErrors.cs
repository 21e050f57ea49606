using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge;

/// <summary>REST errors: {"error":{"code","message"}} with the same stable codes as WebSocket error frames.</summary>
public static class ApiErrors
{
    public sealed record ErrorBody(ErrorDetail Error);

    public sealed record ErrorDetail(string Code, string Message, IReadOnlyList<DeviceRef>? Missing = null, IReadOnlyList<DeviceRef>? Extra = null,
        IReadOnlyList<DeviceRef>? Changed = null);

    public static IResult Result(string code, string message) =>
        Results.Json(new ErrorBody(new ErrorDetail(code, message)), ProtocolJson.Options, statusCode: StatusFor(code));

    /// <summary>409 stale_devices, naming the devices a sealed send lacked, those it should not have named, and those with new keys.</summary>
    public static IResult StaleDevices(Natter.Actors.Services.StaleDevices stale) =>
        Results.Json(new ErrorBody(new ErrorDetail(ErrorCodes.StaleDevices, Natter.Actors.Services.ChatGateway.Describe(stale), stale.Missing, stale.Extra, stale.Changed)),
            ProtocolJson.Options, statusCode: StatusCodes.Status409Conflict);

    public static Task Write(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ErrorBody(new ErrorDetail(code, message)), ProtocolJson.Options);
    }

    public static int StatusFor(string code) => code switch
    {
        ErrorCodes.Unauthorized => StatusCodes.Status401Unauthorized,
        ErrorCodes.NotMember or ErrorCodes.NotAdmin or ErrorCodes.InvalidInvite or ErrorCodes.NotPrimary
            or ErrorCodes.DeviceNotEndorsed => StatusCodes.Status403Forbidden,
        ErrorCodes.GroupFull or "chat_exists" => StatusCodes.Status409Conflict,
        ErrorCodes.RateLimited => StatusCodes.Status429TooManyRequests,
        ErrorCodes.UnknownDevice or ErrorCodes.KeysNotPublished or ErrorCodes.InvalidLink => StatusCodes.Status404NotFound,
        ErrorCodes.LinkPending or ErrorCodes.InboxFull => StatusCodes.Status409Conflict,
        ErrorCodes.StaleDevices or ErrorCodes.StaleDeviceList => StatusCodes.Status409Conflict,
        ErrorCodes.ChatNotFound or ErrorCodes.UnknownUser => StatusCodes.Status404NotFound,
        ErrorCodes.BodyTooLarge or ErrorCodes.MediaTooLarge or ErrorCodes.QuotaExceeded => StatusCodes.Status413PayloadTooLarge,
        ErrorCodes.MediaNotFound or ErrorCodes.NotConfigured or ErrorCodes.NoBackup => StatusCodes.Status404NotFound,
        ErrorCodes.OffsetMismatch => StatusCodes.Status409Conflict,
        ErrorCodes.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ErrorCodes.Internal => StatusCodes.Status500InternalServerError,
        "wrong_code" or "code_expired" or "no_pending_code" => StatusCodes.Status401Unauthorized,
        "too_many_attempts" => StatusCodes.Status429TooManyRequests,
        "too_many_devices" => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status400BadRequest,
    };
}
