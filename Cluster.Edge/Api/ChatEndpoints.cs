using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge;

/// <summary>GET /api/chats (the caller's chats) and POST /api/chats (open the direct chat with a peer).</summary>
public static class ChatEndpoints
{
    public sealed record OpenChatRequest(string? Peer);

    public sealed record ReceiptsView(string UserId, long DeliveredSeq, long ReadSeq);

    public sealed record ChatView(string ChatId, string Kind, IReadOnlyList<string> Members, long LastSeq,
        DateTimeOffset? LastMessageAt, long ReadSeq, long Unread, IReadOnlyList<ReceiptsView> Receipts, string? Name);

    public static void MapChatEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/chats", async (HttpContext http, ChatGateway gateway) =>
        {
            var result = await gateway.ListChatsAsync(http.Principal().User);
            return result.Ok
                ? Results.Json(result.Value!.Select(s => new ChatView(s.ChatId.Value, s.Kind.ToString().ToLowerInvariant(),
                    s.Members.Select(m => m.Value).ToList(), s.LastSeq, s.LastMessageAt, s.ReadSeq, s.Unread,
                    s.Receipts.Select(r => new ReceiptsView(r.User.Value, r.DeliveredSeq, r.ReadSeq)).ToList(), s.Group?.Name)), ProtocolJson.Options)
                : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        });
        api.MapPost("/chats", async (OpenChatRequest request, HttpContext http, ChatGateway gateway) =>
        {
            if (UserId.FromPhoneNumber(request.Peer) is not { } peer)
                return ApiErrors.Result(ErrorCodes.InvalidField, "'peer' must be a phone number");
            var result = await gateway.OpenDirectChatAsync(http.Principal().User, peer, DateTimeOffset.UtcNow);
            return result.Ok
                ? Results.Json(new { chatId = result.Value.Value, peer = peer.Value }, ProtocolJson.Options)
                : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        });
    }
}
