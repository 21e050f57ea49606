namespace Natter.Messages.Chats;

public static class ChatQueries
{
    public interface IChatQuery : IWithChatId;

    /// <summary>
    /// Messages with seq greater than <see cref="After"/>, oldest first. A null <see cref="After"/> means
    /// "after this device's stored delivered cursor". Sealed messages carry only <see cref="Device"/>'s envelope.
    /// Replies <see cref="ChatReplies.MessagePage"/>.
    /// </summary>
    public sealed record GetMessagesAfter(ChatId ChatId, UserId Requester, DeviceId Device, long? After, int Limit)
        : IChatQuery;

    /// <summary>
    /// History page: messages with seq lower than <see cref="Before"/> (latest when null), newest first. With a
    /// <see cref="Device"/>, sealed messages carry only that device's envelope.
    /// </summary>
    public sealed record GetMessagesBefore(ChatId ChatId, UserId Requester, long? Before, int Limit, DeviceId? Device = null) : IChatQuery;

    /// <summary>Last seq and the requester's unread count. Replies <see cref="ChatReplies.ChatSummary"/>.</summary>
    public sealed record GetChatSummary(ChatId ChatId, UserId Requester) : IChatQuery;

    /// <summary>Per-member receipts of one message. Replies <see cref="ChatReplies.MessageReceipts"/>.</summary>
    public sealed record GetMessageReceipts(ChatId ChatId, UserId Requester, long Seq) : IChatQuery;

    /// <summary>Internal (the notification projection): who is a member now and was one at <see cref="Seq"/>.</summary>
    public sealed record GetMembersAt(ChatId ChatId, long Seq) : IWithChatId;

    public sealed record MembersAt(ChatId ChatId, long Seq, IReadOnlyList<UserId> Members) : INatterMessage;
}
