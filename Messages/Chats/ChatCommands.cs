namespace Natter.Messages.Chats;

/// <summary>Commands a ChatActor decides on. Timestamps travel on the command so replay is deterministic.</summary>
public static class ChatCommands
{
    public interface IChatCommand : IWithChatId;

    /// <summary>Creates the chat if it does not exist; idempotent for the same members. Replies <see cref="ChatReplies.ChatReady"/>.</summary>
    public sealed record CreateChat(
        ChatId ChatId,
        ChatKind Kind,
        IReadOnlyList<UserId> Members,
        UserId CreatedBy,
        DateTimeOffset At) : IChatCommand;

    /// <summary>Appends a message. Replies <see cref="ChatReplies.MessageAccepted"/> only once it is durable.</summary>
    public sealed record SendMessage(
        ChatId ChatId,
        UserId Sender,
        DeviceId SenderDevice,
        string ClientMsgId,
        byte[] Body,
        DateTimeOffset At) : IChatCommand;

    /// <summary>A device has received (or read) everything up to <see cref="Seq"/>.</summary>
    public sealed record AdvanceCursor(
        ChatId ChatId,
        UserId User,
        DeviceId Device,
        CursorKind Kind,
        long Seq,
        DateTimeOffset At) : IChatCommand;
}
