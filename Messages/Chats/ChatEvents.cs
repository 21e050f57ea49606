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
        DateTimeOffset At,
        Media.MediaRef? Media = null,
        Media.LiveLocation? LiveLocation = null,
        IReadOnlyList<DeviceEnvelope>? Envelopes = null) : IChatEvent;

    public sealed record CursorAdvanced(
        ChatId ChatId,
        UserId User,
        DeviceId Device,
        CursorKind Kind,
        long Seq,
        DateTimeOffset At) : IChatEvent;

    /// <summary>A group was created or changed; it takes the next seq of the chat's log, like a message.</summary>
    public sealed record GroupChanged(
        ChatId ChatId,
        long Seq,
        UserId By,
        DeviceId ByDevice,
        GroupChange Change,
        DateTimeOffset At) : IChatEvent;

    /// <summary>An admin set a new invite code (only its SHA-256 is kept); the old one stops working.</summary>
    public sealed record InviteCodeSet(ChatId ChatId, UserId By, string CodeHash, DateTimeOffset At) : IChatEvent;

    /// <summary>Several cursors moved; written as one event when receipts arrive faster than one write at a time.</summary>
    public sealed record CursorsAdvanced(ChatId ChatId, IReadOnlyList<CursorMove> Moves) : IChatEvent;
}

public sealed record CursorMove(UserId User, DeviceId Device, CursorKind Kind, long Seq, DateTimeOffset At);
