using System.Text.Json.Serialization;

namespace Natter.Messages.Chats;

/// <summary>
/// What a chat pushes to the online devices of its members: a direct chat to their connections (learned from their
/// PresenceActors, or through those until then), a group through the edges' fanouts.
/// </summary>
public static class ChatNotices
{
    [JsonPolymorphic(TypeDiscriminatorPropertyName = "$notice")]
    [JsonDerivedType(typeof(NewMessage), "message")]
    [JsonDerivedType(typeof(ReceiptUpdated), "receipt")]
    [JsonDerivedType(typeof(GroupReceiptsUpdated), "group_receipts")]
    [JsonDerivedType(typeof(Typing), "typing")]
    [JsonDerivedType(typeof(LocationUpdated), "location")]
    [JsonDerivedType(typeof(LocationStopped), "location_stopped")]
    public interface IChatNotice : IWithChatId;

    public sealed record NewMessage(ChatId ChatId, ChatMessage Message) : IChatNotice;

    /// <summary>A member's delivered/read cursor advanced (the highest over that member's devices).</summary>
    public sealed record ReceiptUpdated(ChatId ChatId, UserId User, CursorKind Kind, long Seq, DateTimeOffset At)
        : IChatNotice;

    /// <summary>A group's "delivered to all" or "read by all" moved (per-member receipts are asked for, not pushed).</summary>
    public sealed record GroupReceiptsUpdated(ChatId ChatId, GroupReceipts Receipts) : IChatNotice;

    /// <summary>The latest position of a live-location share. Never stored (only the latest is kept in memory).</summary>
    public sealed record LocationUpdated(ChatId ChatId, long ShareSeq, UserId User, byte[] Body, DateTimeOffset At) : IChatNotice;

    /// <summary>A live-location share ended: <see cref="Expired"/> at its end time, else stopped by its sharer.</summary>
    public sealed record LocationStopped(ChatId ChatId, long ShareSeq, UserId User, bool Expired) : IChatNotice;

    /// <summary>A member started (or stopped) typing. Never stored.</summary>
    public sealed record Typing(ChatId ChatId, UserId User, bool IsTyping) : IChatNotice;
}
