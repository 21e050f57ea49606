using Microsoft.Extensions.Options;
using Natter.Actors.Connections;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge;

/// <summary>
/// GET /api/messages (a page of history), POST /api/messages (send, same rules as the socket) and
/// GET /api/messages/info (who has received and read one message). A group is named by groupId, a direct
/// chat by chatId (either name is accepted for either kind).
/// </summary>
public static class MessageEndpoints
{
    /// <summary><see cref="Media"/> attaches an uploaded file, as on the socket (the body may then be empty).</summary>
    public sealed record SendRequest(string? ChatId, string? GroupId, string? ClientMsgId, string? Body, MediaFrame? Media = null,
        IReadOnlyList<EnvelopeFrame>? Envelopes = null);

    public sealed record MessagePageView(string ChatId, IReadOnlyList<MessageFrame> Messages, bool HasMore, long? NextBefore);

    public static void MapMessageEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/messages", async (string? chatId, string? groupId, long? before, int? limit, HttpContext http, ChatGateway gateway) =>
        {
            chatId ??= groupId;
            if (string.IsNullOrWhiteSpace(chatId)) return ApiErrors.Result(ErrorCodes.MissingField, "'chatId' or 'groupId' is required");
            if (limit is < 1 or > 500) return ApiErrors.Result(ErrorCodes.InvalidField, "'limit' must be 1 to 500");
            if (before is < 1) return ApiErrors.Result(ErrorCodes.InvalidField, "'before' must be a seq >= 1");
            var result = await gateway.HistoryAsync(new ChatId(chatId), http.Principal().User, before, limit ?? 50, http.Principal().Device);
            if (!result.Ok) return ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
            var page = result.Value!;
            var frames = page.Messages.Select(m => MessageFrames.Of(m, http.Principal().User, http.Principal().Device)).ToList();
            return Results.Json(new MessagePageView(chatId, frames, page.HasMore,
                page.HasMore && frames.Count > 0 ? frames[^1].Seq : null), ProtocolJson.Options);
        });

        api.MapGet("/messages/info", async (string? chatId, string? groupId, long? seq, HttpContext http, ChatGateway gateway) =>
        {
            chatId ??= groupId;
            if (string.IsNullOrWhiteSpace(chatId)) return ApiErrors.Result(ErrorCodes.MissingField, "'chatId' or 'groupId' is required");
            if (seq is not >= 1) return ApiErrors.Result(ErrorCodes.InvalidField, "'seq' must be a seq >= 1");
            var result = await gateway.MessageInfoAsync(new ChatId(chatId), http.Principal().User, seq.Value);
            return result.Ok
                ? Results.Json(MessageFrames.Of(null, result.Value!), ProtocolJson.Options)
                : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        });

        api.MapPost("/messages", async (SendRequest request, HttpContext http, ChatGateway gateway, IOptions<ConnectionSettings> limits, SendLimiter sends) =>
        {
            if (!sends.Allows(http.Principal().User.Value)) return sends.Refusal;
            var chatId = request.ChatId ?? request.GroupId;
            if (string.IsNullOrWhiteSpace(chatId)) return ApiErrors.Result(ErrorCodes.MissingField, "'chatId' or 'groupId' is required");
            if (string.IsNullOrWhiteSpace(request.ClientMsgId) || request.ClientMsgId.Length > 64)
                return ApiErrors.Result(ErrorCodes.InvalidField, "'clientMsgId' must be 1 to 64 characters");
            if (request.Body is null || (request.Body.Length == 0 && request.Media is null))
                return ApiErrors.Result(ErrorCodes.MissingField, "'body' is required");
            if (request.Media is { } attached && MediaFrames.Problem(attached) is { } problem) return ApiErrors.Result(ErrorCodes.InvalidField, problem);
            byte[] body;
            try { body = Convert.FromBase64String(request.Body); }
            catch (FormatException) { return ApiErrors.Result(ErrorCodes.InvalidField, "'body' must be base64"); }
            if (body.Length > limits.Value.MaxBodyBytes)
                return ApiErrors.Result(ErrorCodes.BodyTooLarge, $"a body is at most {limits.Value.MaxBodyBytes} bytes");

            if (request.Envelopes is null && limits.Value.RequireSealedSends)
                return ApiErrors.Result(ErrorCodes.SealedSendRequired, ConnectionActor.SealedSendRequiredMessage);
            var principal = http.Principal();
            var envelopes = request.Envelopes?.Select(e => new DeviceEnvelope(new UserId(e.UserId ?? ""), new DeviceId(e.DeviceId), e.Data ?? [])).ToList();
            if (envelopes is not null)
            {
                var check = await gateway.CheckEnvelopesAsync(new ChatId(chatId), principal.User, principal.Device, envelopes,
                    ChatGateway.SealedFor(request.Envelopes!));
                if (!check.Ok) return ApiErrors.Result(check.ErrorCode!, check.ErrorMessage!);
                if (check.Value is { } stale) return ApiErrors.StaleDevices(stale);
            }
            var result = await gateway.SendAsync(new ChatCommands.SendMessage(new ChatId(chatId), principal.User,
                principal.Device, request.ClientMsgId, body, DateTimeOffset.UtcNow, request.Media is { } media ? MediaFrames.ToRef(media) : null,
                Envelopes: envelopes));
            if (!result.Ok) return ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
            var ack = result.Value!;
            var view = new AckFrame(ack.ChatId.Value, ack.ClientMsgId, ack.Seq, ack.At, ack.Duplicate);
            return Results.Json(view, ProtocolJson.Options, statusCode: ack.Duplicate ? StatusCodes.Status200OK : StatusCodes.Status201Created);
        });
    }
}
