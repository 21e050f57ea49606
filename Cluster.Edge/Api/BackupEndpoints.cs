using Natter.Actors.Media;
using Natter.Actors.Services;
using Natter.Messages.Protocol;
using Natter.Messages.Users;

namespace Natter.Cluster.Edge;

/// <summary>
/// The account's backup (docs/protocol.md §14.7): the client uploads its encrypted backup as media, then PUT
/// /api/backup names it as the current one; GET /api/backup tells any device of the account which blob to
/// download (GET /api/media/{id}: the uploader's own); DELETE /api/backup lets it be collected.
/// </summary>
public static class BackupEndpoints
{
    public sealed record BackupRequest(string? MediaId);

    public sealed record BackupView(string MediaId, long Size, int DeviceId, DateTimeOffset StoredAt);

    public static void MapBackupEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/backup", async (HttpContext http, UserGateway users) => ViewOf(await users.BackupAsync(http.Principal().User)));

        api.MapPut("/backup", async (BackupRequest request, HttpContext http, UserGateway users) =>
        {
            if (string.IsNullOrEmpty(request.MediaId)) return ApiErrors.Result(ErrorCodes.MissingField, "'mediaId' is required");
            if (!LocalBlobStore.IsSha256(request.MediaId)) return ApiErrors.Result(ErrorCodes.InvalidField, "'mediaId' is a media id: 64 lowercase hex digits");
            var principal = http.Principal();
            return ViewOf(await users.RecordBackupAsync(principal.User, principal.Device, request.MediaId, DateTimeOffset.UtcNow));
        });

        api.MapDelete("/backup", async (HttpContext http, UserGateway users) =>
        {
            var principal = http.Principal();
            var result = await users.DeleteBackupAsync(principal.User, principal.Device, DateTimeOffset.UtcNow);
            return result.Ok ? Results.NoContent() : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        });
    }

    private static IResult ViewOf(GatewayResult<UserReplies.Backup> result)
    {
        if (!result.Ok) return ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        return result.Value!.Current is { } backup
            ? Results.Json(new BackupView(backup.BlobId, backup.Size, backup.By.Value, backup.At), ProtocolJson.Options)
            : ApiErrors.Result(ErrorCodes.NoBackup, "this account has no backup");
    }
}
