using System.Text.Json.Serialization;

namespace Natter.Messages.Chats;

/// <summary>What a chat pushes to the online devices of its members (through their PresenceActor).</summary>
public static class ChatNotices
{
    [JsonPolymorphic(TypeDiscriminatorPropertyName = "$notice")]
    [JsonDerivedType(typeof(NewMessage), "message")]
    [JsonDerivedType(typeof(ReceiptUpdated), "receipt")]
    [JsonDerivedType(typeof(GroupReceiptsUpdated), "group_receipts")]
    [JsonDerivedType(typeof(Typing), "typing")]
    public interface IChatNotice : IWithChatId;

    public sealed record NewMessage(ChatId ChatId, ChatMessage Message) : IChatNotice;

    /// <summary>A member's delivered/read cursor advanced (the highest over that member's devices).</summary>
    public sealed record ReceiptUpdated(ChatId ChatId, UserId User, CursorKind Kind, long Seq, DateTimeOffset At)
        : IChatNotice;

    /// <summary>A group's "delivered to all" or "read by all" moved (per-member receipts are asked for, not pushed).</summary>
    public sealed record GroupReceiptsUpdated(ChatId ChatId, GroupReceipts Receipts) : IChatNotice;

    /// <summary>A member started (or stopped) typing. Never stored.</summary>
    public sealed record Typing(ChatId ChatId, UserId User, bool IsTyping) : IChatNotice;
}
