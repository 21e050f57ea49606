using Natter.Actors.Services;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge;

/// <summary>
/// GET /api/groups (the caller's groups) and POST /api/groups (the case study's join/leave, plus create and the
/// admin actions). Answers {"ok": true, ...} or, on refusal, {"ok": false, "error": {code, message}}.
/// </summary>
public static class GroupEndpoints
{
    /// <summary><see cref="UserId"/> is the case study's single user; <see cref="UserIds"/> names several.</summary>
    public sealed record GroupActionRequest(string? Action, string? GroupId, string? UserId, IReadOnlyList<string>? UserIds,
        string? Name, string? InviteCode);

    public sealed record GroupActionResult(bool Ok, string Action, string GroupId, long Seq, string? InviteCode);

    public sealed record GroupRefusal(bool Ok, ApiErrors.ErrorDetail Error);

    public sealed record GroupView(string GroupId, string Name, IReadOnlyList<string> Members, IReadOnlyList<string> Admins,
        bool IsMember, long LastSeq, DateTimeOffset? LastMessageAt, long ReadSeq, long Unread, long DeliveredToAll, long ReadByAll);

    public static void MapGroupEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/groups", async (HttpContext http, ChatGateway gateway) =>
        {
            var result = await gateway.ListChatsAsync(http.Principal().User, groupsOnly: true);
            return result.Ok
                ? Results.Json(result.Value!.Where(s => s.Group is not null).Select(ViewOf), ProtocolJson.Options)
                : ApiErrors.Result(result.ErrorCode!, result.ErrorMessage!);
        });

        api.MapPost("/groups", async (GroupActionRequest request, HttpContext http, ChatGateway gateway) =>
        {
            var principal = http.Principal();
            var userIds = request.UserIds ?? (request.UserId is { } one ? [one] : null);
            var result = await gateway.ChangeGroupAsync(principal.User, principal.Device,
                new GroupRequest(request.Action, request.GroupId, userIds, request.Name, request.InviteCode), DateTimeOffset.UtcNow);
            if (!result.Ok)
                return Results.Json(new GroupRefusal(false, new ApiErrors.ErrorDetail(result.ErrorCode!, result.ErrorMessage!)),
                    ProtocolJson.Options, statusCode: ApiErrors.StatusFor(result.ErrorCode!));
            var outcome = result.Value!;
            return Results.Json(new GroupActionResult(true, GroupActions.NameOf(outcome.Action), outcome.GroupId.Value, outcome.Seq,
                outcome.InviteCode), ProtocolJson.Options, statusCode: outcome.Action == GroupAction.Create ? 201 : 200);
        });
    }

    private static GroupView ViewOf(ChatReplies.ChatSummary s) => new(
        s.ChatId.Value, s.Group!.Name, s.Members.Select(m => m.Value).ToList(), s.Group.Admins.Select(a => a.Value).ToList(),
        s.Group.IsMember, s.LastSeq, s.LastMessageAt, s.ReadSeq, s.Unread, s.Group.Receipts.DeliveredToAll, s.Group.Receipts.ReadByAll);
}
