using Microsoft.AspNetCore.Http.Features;
using Natter.Cluster.Edge.Media;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge;

/// <summary>
/// POST /api/media (a whole file), the resumable variant under /api/media/uploads, and GET /api/media/{id}
/// (streamed, with HTTP range requests).
/// </summary>
public static class MediaEndpoints
{
    public sealed record BeginRequest(long? Size, string? ContentType, string? Sha256);

    public sealed record UploadView(string UploadId, long Received, long Size);

    public static void MapMediaEndpoints(this RouteGroupBuilder api)
    {
        api.MapPost("/media", async (HttpContext http, MediaService media) =>
        {
            AllowLargeBody(http, media.Options.MaxBytes);
            var request = http.Request;
            var (stored, refusal) = await media.UploadAsync(http.Principal().User, request.Body, request.ContentType ?? "",
                request.Headers["X-Content-SHA256"].FirstOrDefault(), request.ContentLength, http.RequestAborted);
            return Answer(stored, refusal, StatusCodes.Status201Created);
        });

        api.MapPost("/media/uploads", async (BeginRequest request, HttpContext http, MediaService media) =>
        {
            if (request.Size is null) return ApiErrors.Result(ErrorCodes.MissingField, "'size' is required");
            var (upload, refusal) = await media.BeginAsync(http.Principal().User, request.Size.Value, request.ContentType ?? "", request.Sha256);
            return refusal is null
                ? Results.Json(new UploadView(upload!.UploadId, 0, upload.Size), ProtocolJson.Options, statusCode: StatusCodes.Status201Created)
                : ApiErrors.Result(refusal.Code, refusal.Message);
        });

        api.MapGet("/media/uploads/{uploadId}", (string uploadId, HttpContext http, MediaService media) =>
        {
            var (upload, received) = media.Status(http.Principal().User, uploadId);
            return upload is null
                ? ApiErrors.Result(ErrorCodes.MediaNotFound, "no such upload")
                : Results.Json(new UploadView(uploadId, received, upload.Size), ProtocolJson.Options);
        });

        api.MapMethods("/media/uploads/{uploadId}", ["PATCH"], async (string uploadId, HttpContext http, MediaService media) =>
        {
            AllowLargeBody(http, media.Options.MaxBytes);
            if (!long.TryParse(http.Request.Headers["Upload-Offset"].FirstOrDefault(), out var offset))
                return ApiErrors.Result(ErrorCodes.MissingField, "the Upload-Offset header is required");
            var (received, refusal) = await media.AppendAsync(http.Principal().User, uploadId, offset, http.Request.Body, http.RequestAborted);
            if (refusal is null) return Results.Json(new UploadView(uploadId, received, media.Status(http.Principal().User, uploadId).Upload?.Size ?? 0), ProtocolJson.Options);
            http.Response.Headers["Upload-Offset"] = received.ToString();
            return ApiErrors.Result(refusal.Code, refusal.Message);
        });

        api.MapPost("/media/uploads/{uploadId}/complete", async (string uploadId, HttpContext http, MediaService media) =>
        {
            var (stored, refusal) = await media.CompleteAsync(http.Principal().User, uploadId);
            return Answer(stored, refusal, StatusCodes.Status201Created);
        });

        api.MapDelete("/media/uploads/{uploadId}", (string uploadId, HttpContext http, MediaService media) =>
        {
            if (media.Status(http.Principal().User, uploadId).Upload is null) return ApiErrors.Result(ErrorCodes.MediaNotFound, "no such upload");
            media.Abandon(uploadId);
            return Results.NoContent();
        });

        api.MapGet("/media/{id}", async (string id, string? chatId, long? seq, HttpContext http, MediaService media) =>
        {
            var principal = http.Principal();
            var (blob, contentType, refusal) = await media.AuthorizeDownloadAsync(principal.User, principal.Device, id, chatId, seq);
            if (refusal is not null) return ApiErrors.Result(refusal.Code, refusal.Message);
            // Served as a download, never rendered on this origin: the content type is only the uploader's claim.
            http.Response.Headers.ContentDisposition = "attachment";
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers.ContentSecurityPolicy = "sandbox";
            // Content-addressed: the bytes under an id never change, so the id is a perfect ETag.
            return Results.File(media.OpenRead(blob!.Id), contentType, enableRangeProcessing: true,
                entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{blob.Id}\""));
        });
    }

    private static IResult Answer(MediaService.Stored? stored, MediaService.Refusal? refusal, int status) =>
        refusal is null ? Results.Json(stored, ProtocolJson.Options, statusCode: status) : ApiErrors.Result(refusal.Code, refusal.Message);

    private static void AllowLargeBody(HttpContext http, long max)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = max;
    }
}
