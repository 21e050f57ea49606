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
public sealed class ChatGateway(IActorRef chats, IActorRef users, TimeSpan timeout)
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

    /// <summary>The user's chats with their last seq and unread count, most recent first.</summary>
    public async Task<GatewayResult<IReadOnlyList<ChatSummary>>> ListChatsAsync(UserId user)
    {
        try
        {
            var list = await users.Ask<UserReplies.ChatList>(new UserQueries.GetChatList(user), timeout);
            var replies = await Task.WhenAll(list.Chats.Select(c => chats.Ask<object>(new GetChatSummary(c, user), timeout)));
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
    public async Task<GatewayResult<MessagePage>> HistoryAsync(ChatId chatId, UserId user, long? before, int limit)
    {
        if (!ChatIds.MayBeMember(chatId, user, out var refusal))
            return GatewayResult<MessagePage>.Fail(refusal.Code, refusal.Message);
        return await AskChatAsync<MessagePage>(new GetMessagesBefore(chatId, user, before, limit),
            "the cluster did not answer in time; retry");
    }

    /// <summary>Asks a chat; its reply is the value, a <see cref="ChatRejected"/> the refusal, a timeout "unavailable".</summary>
    private async Task<GatewayResult<T>> AskChatAsync<T>(IWithChatId request, string onTimeout) where T : class
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
