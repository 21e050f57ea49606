namespace Natter.Messages.Chats;

public enum ChatKind
{
    Direct = 1,
    Group = 2,
}

public enum CursorKind
{
    Delivered = 1,
    Read = 2,
}

/// <summary>
/// One entry of a chat's log. <see cref="Body"/> is opaque client bytes (ciphertext once E2EE lands).
/// A group's membership changes are entries too (<see cref="Change"/> set, empty body), so every member
/// sees them in the same order as the messages around them.
/// </summary>
public sealed record ChatMessage(
    ChatId ChatId,
    long Seq,
    UserId Sender,
    DeviceId SenderDevice,
    string ClientMsgId,
    byte[] Body,
    DateTimeOffset At,
    GroupChange? Change = null,
    Media.MediaRef? Media = null,
    Media.LiveLocation? LiveLocation = null,
    IReadOnlyList<DeviceEnvelope>? Envelopes = null)
{
    /// <summary>The envelope sealed for one device, if the message was end-to-end encrypted for it.</summary>
    public byte[]? EnvelopeFor(UserId user, DeviceId device) => Envelopes?.FirstOrDefault(e => e.User == user && e.Device == device)?.Data;

    /// <summary>
    /// The message as one device may receive it: of a sealed message's envelopes, only its own (an empty list
    /// still says the body is sealed). A group message can carry thousands; a page must not carry them all.
    /// </summary>
    public ChatMessage ForDevice(UserId user, DeviceId device) =>
        Envelopes is null ? this : this with { Envelopes = Envelopes.Where(e => e.User == user && e.Device == device).ToList() };
}

/// <summary>
/// An end-to-end encrypted message's content key, sealed for one device (docs/e2ee.md). The body is stored
/// once; each device gets only its own envelope.
/// </summary>
public sealed record DeviceEnvelope(UserId User, DeviceId Device, byte[] Data);

/// <summary>The latest position of a running live-location share (started by message <see cref="ShareSeq"/>).</summary>
public sealed record LivePosition(long ShareSeq, UserId User, byte[] Body, DateTimeOffset At);

/// <summary>How far one member has received and read a chat (the highest over that member's devices).</summary>
public sealed record MemberReceipts(UserId User, long DeliveredSeq, long ReadSeq);

/// <summary>Stable reason codes for refusals; the client protocol uses the same strings.</summary>
public static class ChatRejections
{
    public const string NotMember = "not_member";
    public const string ChatNotFound = "chat_not_found";
    public const string AlreadyExists = "chat_exists";
    public const string InvalidCursor = "invalid_cursor";
    public const string InvalidMembers = "invalid_members";
    public const string NotAGroup = "not_a_group";
    public const string NotAdmin = "not_admin";
    public const string GroupFull = "group_full";
    public const string InvalidInvite = "invalid_invite";
    public const string UnknownUser = "unknown_user";
    public const string InvalidField = "invalid_field";
    public const string LiveLocationEnded = "live_location_ended";
}
