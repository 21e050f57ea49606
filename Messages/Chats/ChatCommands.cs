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
        DateTimeOffset At,
        Media.MediaRef? Media = null,
        Media.LiveLocation? LiveLocation = null,
        IReadOnlyList<DeviceEnvelope>? Envelopes = null) : IChatCommand;

    /// <summary>A device has received (or read) everything up to <see cref="Seq"/>.</summary>
    public sealed record AdvanceCursor(
        ChatId ChatId,
        UserId User,
        DeviceId Device,
        CursorKind Kind,
        long Seq,
        DateTimeOffset At) : IChatCommand;

    /// <summary>
    /// Changes a group (or creates it, <see cref="GroupAction.Create"/>). <see cref="Users"/> are the members to
    /// add, remove, promote or demote (the initial members on create); <see cref="InviteCodeHash"/> is the SHA-256
    /// of the invite code to join with, or to set on <see cref="GroupAction.ResetInvite"/>. Replies
    /// <see cref="ChatReplies.GroupUpdated"/> once durable.
    /// </summary>
    public sealed record ChangeGroup(
        ChatId ChatId,
        UserId By,
        DeviceId ByDevice,
        GroupAction Action,
        IReadOnlyList<UserId> Users,
        string? Name,
        string? InviteCodeHash,
        DateTimeOffset At) : IChatCommand;

    /// <summary>Ephemeral: a new position (opaque client bytes) for the live-location share started by message <see cref="ShareSeq"/>.</summary>
    public sealed record UpdateLocation(ChatId ChatId, UserId User, long ShareSeq, byte[] Body, DateTimeOffset At) : IWithChatId;

    /// <summary>The sharer ends their live-location share before it expires.</summary>
    public sealed record StopLocation(ChatId ChatId, UserId User, long ShareSeq, DateTimeOffset At) : IWithChatId;

    /// <summary>Ephemeral, never stored: a member started or stopped typing. Pushed to the members' online devices.</summary>
    public sealed record SignalTyping(ChatId ChatId, UserId User, DeviceId Device, bool Typing) : IWithChatId;

    /// <summary>
    /// Ephemeral: a member's device notice (an identity change) for the chat's other members, who may share no direct
    /// chat with them. Delivered like any device notice; dropped if <see cref="From"/> is not a member.
    /// </summary>
    public sealed record TellMembers(ChatId ChatId, UserId From, Natter.Messages.Users.DeviceNotices.IDeviceNotice Notice) : IWithChatId;
}
