using Akka.Actor;
using Natter.Actors.Hosting;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Natter.Messages.Users;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatQueries;
using static Natter.Messages.Chats.ChatReplies;

namespace Natter.Actors.Services;

/// <summary>
/// Request/response operations on chats shared by REST and WebSocket connections. Each is a short sequence
/// of idempotent asks to the shard regions, so a caller that times out can simply retry.
/// </summary>
/// <param name="keyedDevices">This process's cache of users' devices for the envelope check of sealed sends (null: none).</param>
public sealed partial class ChatGateway(IActorRef chats, IActorRef users, TimeSpan timeout, KeyedDeviceCache? keyedDevices = null)
{
    public IActorRef Chats => chats;
    public IActorRef Users => users;
    public TimeSpan Timeout => timeout;

    /// <summary>The direct chat of two users, created and listed for both on first use.</summary>
    public async Task<GatewayResult<ChatId>> OpenDirectChatAsync(UserId me, UserId peer, DateTimeOffset now)
    {
        if (me == peer) return GatewayResult<ChatId>.Fail(ErrorCodes.InvalidField, "a direct chat needs another user");
        try
        {
            var account = await users.Ask<UserReplies.Account>(new UserQueries.GetAccount(peer), timeout);
            if (!account.Exists) return GatewayResult<ChatId>.Fail(ErrorCodes.UnknownUser, $"no user {peer}");

            var chatId = ChatId.Direct(me, peer);
            var created = await chats.Ask<object>(new CreateChat(chatId, ChatKind.Direct, [me, peer], me, now), timeout);
            if (created is ChatRejected rejected) return GatewayResult<ChatId>.Fail(rejected.Code, rejected.Reason);

            await Task.WhenAll(
                users.Ask<UserReplies.ChatListed>(new UserCommands.ListChat(me, chatId), timeout),
                users.Ask<UserReplies.ChatListed>(new UserCommands.ListChat(peer, chatId), timeout));
            return GatewayResult<ChatId>.Success(chatId);
        }
        catch (AskTimeoutException)
        {
            return GatewayResult<ChatId>.Fail(ErrorCodes.Unavailable, "the cluster did not answer in time; retry");
        }
    }

    /// <summary>Sends a message; the result arrives only once the message is durable.</summary>
    public async Task<GatewayResult<MessageAccepted>> SendAsync(SendMessage send)
    {
        if (!ChatIds.MayBeMember(send.ChatId, send.Sender, out var refusal))
            return GatewayResult<MessageAccepted>.Fail(refusal.Code, refusal.Message);
        return await AskChatAsync<MessageAccepted>(send,
            "no acknowledgement in time; resend with the same clientMsgId (it is deduplicated)");
    }

    /// <summary>The user's chats (or only groups) with their last seq and unread count, most recent first.</summary>
    public async Task<GatewayResult<IReadOnlyList<ChatSummary>>> ListChatsAsync(UserId user, bool groupsOnly = false)
    {
        try
        {
            var list = await users.Ask<UserReplies.ChatList>(new UserQueries.GetChatList(user), timeout);
            var wanted = list.Chats.Where(c => !groupsOnly || c.IsGroup);
            var replies = await Task.WhenAll(wanted.Select(c => chats.Ask<object>(new GetChatSummary(c, user), timeout)));
            IReadOnlyList<ChatSummary> summaries = replies.OfType<ChatSummary>()
                .OrderByDescending(s => s.LastMessageAt ?? DateTimeOffset.MinValue).ToList();
            return GatewayResult<IReadOnlyList<ChatSummary>>.Success(summaries);
        }
        catch (AskTimeoutException)
        {
            return GatewayResult<IReadOnlyList<ChatSummary>>.Fail(ErrorCodes.Unavailable, "the cluster did not answer in time; retry");
        }
    }

    /// <summary>A page of history, newest first, before <paramref name="before"/> (latest when null).</summary>
    public async Task<GatewayResult<MessagePage>> HistoryAsync(ChatId chatId, UserId user, long? before, int limit, DeviceId? device = null)
    {
        if (!ChatIds.MayBeMember(chatId, user, out var refusal))
            return GatewayResult<MessagePage>.Fail(refusal.Code, refusal.Message);
        return await AskChatAsync<MessagePage>(new GetMessagesBefore(chatId, user, before, limit, device),
            "the cluster did not answer in time; retry");
    }

    /// <summary>
    /// Creates or changes a group. The case study's "join/leave with a userId" maps onto admin actions: joining
    /// or leaving on behalf of someone else is an admin adding or removing them. New members get the group in
    /// their chat list once the change is durable.
    /// </summary>
    public async Task<GatewayResult<GroupOutcome>> ChangeGroupAsync(UserId me, DeviceId device, GroupRequest request, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(request.Action)) return GroupFail(ErrorCodes.MissingField, "'action' is required");
        if (GroupActions.Parse(request.Action) is not { } action)
            return GroupFail(ErrorCodes.InvalidField, $"'action' must be one of {string.Join(", ", GroupActions.Names)}");
        var targets = new List<UserId>();
        foreach (var phone in request.UserIds ?? [])
        {
            if (UserId.FromPhoneNumber(phone) is not { } user) return GroupFail(ErrorCodes.InvalidField, $"'{phone}' is not a phone number");
            targets.Add(user);
        }
        var someoneElse = targets.Count > 0 && targets.Any(t => t != me);
        if (action == GroupAction.Join && someoneElse) action = GroupAction.Add;
        if (action == GroupAction.Leave && someoneElse) action = GroupAction.Remove;
        if (action is GroupAction.Add or GroupAction.Remove or GroupAction.Promote or GroupAction.Demote && targets.Count == 0)
            return GroupFail(ErrorCodes.MissingField, "'userIds' names nobody");
        if (action == GroupAction.Join && string.IsNullOrEmpty(request.InviteCode))
            return GroupFail(ErrorCodes.MissingField, "joining needs an 'inviteCode' (or an admin adds you)");

        ChatId groupId;
        if (action == GroupAction.Create) groupId = ChatId.NewGroup();
        else if (string.IsNullOrEmpty(request.GroupId)) return GroupFail(ErrorCodes.MissingField, "'groupId' is required");
        else if (!(groupId = new ChatId(request.GroupId)).IsGroup)
            return groupId.DirectMembers() is null
                ? GroupFail(ErrorCodes.ChatNotFound, $"no group '{request.GroupId}'")
                : GroupFail(ErrorCodes.NotAGroup, "a direct chat is not a group");

        try
        {
            if (action is GroupAction.Create or GroupAction.Add && await UnknownUsersAsync(targets) is { Count: > 0 } unknown)
                return GroupFail(ErrorCodes.UnknownUser, $"no user {string.Join(", ", unknown)}");
            var inviteCode = action == GroupAction.ResetInvite ? NewInviteCode() : null;
            var codeHash = (inviteCode ?? request.InviteCode) is { } code ? Natter.Actors.Chats.ChatState.HashInviteCode(code) : null;
            var change = new ChangeGroup(groupId, me, device, action, targets, request.Name, codeHash, now);
            var reply = await AskChatAsync<GroupUpdated>(change, "the cluster did not answer in time; retry (group actions are idempotent)");
            if (!reply.Ok) return GroupFail(reply.ErrorCode!, reply.ErrorMessage!);

            IEnumerable<UserId> joined = action switch
            {
                GroupAction.Create => targets.Append(me),
                GroupAction.Add => targets,
                GroupAction.Join => [me],
                _ => [],
            };
            await Task.WhenAll(joined.Distinct().Select(u => users.Ask<UserReplies.ChatListed>(new UserCommands.ListChat(u, groupId), timeout)));
            return GatewayResult<GroupOutcome>.Success(new GroupOutcome(groupId, action, reply.Value!.Seq, inviteCode));
        }
        catch (AskTimeoutException)
        {
            return GroupFail(ErrorCodes.Unavailable, "the cluster did not answer in time; retry (group actions are idempotent)");
        }
    }

    /// <summary>Who of the chat's members has received and read one message.</summary>
    public async Task<GatewayResult<MessageReceipts>> MessageInfoAsync(ChatId chatId, UserId user, long seq)
    {
        if (!ChatIds.MayBeMember(chatId, user, out var refusal))
            return GatewayResult<MessageReceipts>.Fail(refusal.Code, refusal.Message);
        return await AskChatAsync<MessageReceipts>(new GetMessageReceipts(chatId, user, seq), "the cluster did not answer in time; retry");
    }

    private async Task<List<UserId>> UnknownUsersAsync(IEnumerable<UserId> candidates)
    {
        var accounts = await Task.WhenAll(candidates.Distinct().Select(u => users.Ask<UserReplies.Account>(new UserQueries.GetAccount(u), timeout)));
        return accounts.Where(a => !a.Exists).Select(a => a.UserId).ToList();
    }

    private static string NewInviteCode() =>
        Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static GatewayResult<GroupOutcome> GroupFail(string code, string message) => GatewayResult<GroupOutcome>.Fail(code, message);

    /// <summary>Asks a chat; its reply is the value, a <see cref="ChatRejected"/> the refusal, a timeout "unavailable".</summary>
    public async Task<GatewayResult<T>> AskChatAsync<T>(IWithChatId request, string onTimeout) where T : class
    {
        try
        {
            return await chats.Ask<object>(request, timeout) switch
            {
                T reply => GatewayResult<T>.Success(reply),
                ChatRejected r => GatewayResult<T>.Fail(r.Code, r.Reason),
                var other => GatewayResult<T>.Fail(ErrorCodes.Internal, $"unexpected reply {other.GetType().Name}"),
            };
        }
        catch (AskTimeoutException)
        {
            return GatewayResult<T>.Fail(ErrorCodes.Unavailable, onTimeout);
        }
    }
}
