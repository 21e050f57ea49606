namespace Natter.Messages.Chats;

/// <summary>What a chat's journal holds, in order. Versioned by manifest; fields are only ever added.</summary>
public static class ChatEvents
{
    public interface IChatEvent : INatterEvent, IWithChatId;

    public sealed record ChatCreated(
        ChatId ChatId,
        ChatKind Kind,
        IReadOnlyList<UserId> Members,
        UserId CreatedBy,
        DateTimeOffset At) : IChatEvent;

    public sealed record MessageAppended(
        ChatId ChatId,
        long Seq,
        UserId Sender,
        DeviceId SenderDevice,
        string ClientMsgId,
        byte[] Body,
        DateTimeOffset At) : IChatEvent;

    public sealed record CursorAdvanced(
        ChatId ChatId,
        UserId User,
        DeviceId Device,
        CursorKind Kind,
        long Seq,
        DateTimeOffset At) : IChatEvent;
}
