using System.Text.Json.Serialization;

namespace Natter.Messages.Chats;

/// <summary>What a chat pushes to the online devices of its members (through their PresenceActor).</summary>
public static class ChatNotices
{
    [JsonPolymorphic(TypeDiscriminatorPropertyName = "$notice")]
    [JsonDerivedType(typeof(NewMessage), "message")]
    [JsonDerivedType(typeof(ReceiptUpdated), "receipt")]
    public interface IChatNotice : IWithChatId;

    public sealed record NewMessage(ChatId ChatId, ChatMessage Message) : IChatNotice;

    /// <summary>A member's delivered/read cursor advanced (the highest over that member's devices).</summary>
    public sealed record ReceiptUpdated(ChatId ChatId, UserId User, CursorKind Kind, long Seq, DateTimeOffset At)
        : IChatNotice;
}
