namespace Natter.Messages.Chats;

/// <summary>Replies from a ChatActor. None of them implements a command marker.</summary>
public static class ChatReplies
{
    public sealed record ChatReady(ChatId ChatId, ChatKind Kind, IReadOnlyList<UserId> Members) : INatterMessage;

    /// <summary>The message is durable under <see cref="Seq"/>. <see cref="Duplicate"/> when the clientMsgId was seen before.</summary>
    public sealed record MessageAccepted(ChatId ChatId, string ClientMsgId, long Seq, DateTimeOffset At, bool Duplicate)
        : INatterMessage;

    public sealed record CursorAccepted(ChatId ChatId, CursorKind Kind, long Seq) : INatterMessage;

    /// <summary>A command or query was refused; <see cref="Code"/> is one of <see cref="ChatRejections"/>.</summary>
    public sealed record ChatRejected(ChatId ChatId, string Code, string Reason, string? ClientMsgId = null)
        : INatterMessage;

    /// <summary>
    /// Messages in the order the query asked for, from seqs above <see cref="After"/> (the cursor actually used);
    /// <see cref="HasMore"/> when the limit cut the page. <see cref="LastSeq"/> is the chat's last durable seq.
    /// Catch-up pages (<see cref="ChatQueries.GetMessagesAfter"/>) also carry where the other members stand, so a
    /// device that was away learns what was delivered and read meanwhile: every member's receipts in a direct
    /// chat, the "delivered to all / read by all" pair in a group (<see cref="GroupReceipts"/>).
    /// </summary>
    public sealed record MessagePage(ChatId ChatId, long After, IReadOnlyList<ChatMessage> Messages, bool HasMore, long LastSeq,
        IReadOnlyList<MemberReceipts>? Receipts = null, GroupReceipts? GroupReceipts = null,
        IReadOnlyList<LivePosition>? LiveLocations = null) : INatterMessage;

    public sealed record ChatSummary(
        ChatId ChatId,
        ChatKind Kind,
        IReadOnlyList<UserId> Members,
        long LastSeq,
        DateTimeOffset? LastMessageAt,
        long ReadSeq,
        long Unread,
        IReadOnlyList<MemberReceipts> Receipts,
        GroupSummary? Group = null) : INatterMessage;

    /// <summary>
    /// A group's name, admins and receipts as its requester may see them. <see cref="IsMember"/> is false for a
    /// former member, who still sees the chat (up to their removal) but no longer its members' receipts.
    /// </summary>
    public sealed record GroupSummary(string Name, IReadOnlyList<UserId> Admins, bool IsMember, GroupReceipts Receipts);

    /// <summary>The group changed as asked (<see cref="Seq"/> of the change in the log, 0 when no entry was needed).</summary>
    public sealed record GroupUpdated(ChatId ChatId, GroupAction Action, long Seq) : INatterMessage;

    /// <summary>Who, of the members at <see cref="Seq"/>, has received and read that message, and who not yet.</summary>
    public sealed record MessageReceipts(ChatId ChatId, long Seq, IReadOnlyList<UserId> ReadBy,
        IReadOnlyList<UserId> DeliveredTo, IReadOnlyList<UserId> Pending) : INatterMessage;
}
