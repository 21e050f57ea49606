using System.Text.Json.Serialization;

namespace Natter.Messages.Protocol;

/// <summary>A frame the server sends over /ws (protocol v1). See docs/protocol.md.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(WelcomeFrame), "welcome")]
[JsonDerivedType(typeof(AckFrame), "ack")]
[JsonDerivedType(typeof(MessageFrame), "message")]
[JsonDerivedType(typeof(ReceiptFrame), "receipt")]
[JsonDerivedType(typeof(ChatOpenedFrame), "chat_opened")]
[JsonDerivedType(typeof(SyncedFrame), "synced")]
[JsonDerivedType(typeof(HistoryPageFrame), "history")]
[JsonDerivedType(typeof(PongFrame), "pong")]
[JsonDerivedType(typeof(ErrorFrame), "error")]
[JsonDerivedType(typeof(GroupResultFrame), "group_result")]
[JsonDerivedType(typeof(GroupReceiptsFrame), "group_receipts")]
[JsonDerivedType(typeof(MessageInfoFrame), "message_info")]
[JsonDerivedType(typeof(TypingNoticeFrame), "typing")]
[JsonDerivedType(typeof(PresenceFrame), "presence")]
[JsonDerivedType(typeof(LocationNoticeFrame), "location")]
[JsonDerivedType(typeof(LocationStoppedFrame), "location_stopped")]
[JsonDerivedType(typeof(PreKeysLowFrame), "prekeys_low")]
[JsonDerivedType(typeof(IdentityChangedFrame), "identity_changed")]
[JsonDerivedType(typeof(DevicesChangedFrame), "devices_changed")]
[JsonDerivedType(typeof(LinkRequestFrame), "link_request")]
[JsonDerivedType(typeof(DeviceMessageFrame), "device_message")]
public abstract record ServerFrame;

public sealed record WelcomeFrame(
    string UserId,
    int DeviceId,
    int Protocol,
    int HeartbeatSeconds,
    int MaxFrameBytes,
    int MaxBodyBytes) : ServerFrame;

/// <summary>The message is durable under <see cref="Seq"/>. Sent once per send (again, with Duplicate, for a resend).</summary>
public sealed record AckFrame(string ChatId, string ClientMsgId, long Seq, DateTimeOffset Ts, bool Duplicate)
    : ServerFrame;

/// <summary>
/// One entry of a chat. Clients dedupe by (chatId, seq). A group's membership changes are entries too: they
/// carry <see cref="Change"/>, an empty body and clientMsgId, and the admin (or leaver) as sender.
/// <see cref="Sealed"/>: the body is end-to-end encrypted (it was sent with envelopes); <see cref="Envelope"/> is
/// this device's, absent when the sender sealed nothing for it.
/// </summary>
public sealed record MessageFrame(
    string ChatId,
    long Seq,
    string Sender,
    int SenderDevice,
    string ClientMsgId,
    byte[] Body,
    DateTimeOffset Ts,
    GroupChangeFrame? Change = null,
    MediaFrame? Media = null,
    LiveLocationFrame? LiveLocation = null,
    byte[]? Envelope = null,
    bool Sealed = false) : ServerFrame;

/// <summary>The message started a live-location share that runs until <see cref="Until"/>.</summary>
public sealed record LiveLocationFrame(DateTimeOffset Until);

/// <summary>The latest position of the live-location share started by message <see cref="ShareSeq"/>. Never stored.</summary>
public sealed record LocationNoticeFrame(string ChatId, long ShareSeq, string UserId, byte[] Body, DateTimeOffset Ts) : ServerFrame;

/// <summary>A live-location share ended: <see cref="Reason"/> is "expired" or "stopped".</summary>
public sealed record LocationStoppedFrame(string ChatId, long ShareSeq, string UserId, string Reason) : ServerFrame;

/// <summary>
/// An attachment: <see cref="Id"/> is the blob's SHA-256 (download it from /api/media/{id}), with its size, declared
/// content type, an optional inline thumbnail (base64, at most 16 KiB) and a caption.
/// </summary>
public sealed record MediaFrame(string Id, long Size, string ContentType, byte[]? Thumbnail = null, string? Caption = null);

/// <summary>
/// <see cref="Kind"/>: created, added, removed, left, joined, promoted, demoted or renamed; <see cref="Users"/>
/// whom it concerns; <see cref="Name"/> the group's name on created and renamed.
/// </summary>
public sealed record GroupChangeFrame(string Kind, IReadOnlyList<string> Users, string? Name);

/// <summary>
/// A member has received (kind "delivered") or read (kind "read") everything up to <see cref="Seq"/>.
/// <see cref="Ts"/> is absent on the receipts a sync replays (the time of a cursor is not kept).
/// </summary>
public sealed record ReceiptFrame(string ChatId, string UserId, string Kind, long Seq, DateTimeOffset? Ts) : ServerFrame;

public sealed record ChatOpenedFrame(string? Rid, string ChatId, string Peer) : ServerFrame;

/// <summary>
/// Everything stored before the sync was pushed; live messages follow. <see cref="Summary"/> lists the chats
/// that had something new for this device, with how many entries the sync brought and the last seq.
/// </summary>
public sealed record SyncedFrame(int Chats, int Messages, IReadOnlyList<ChatCatchUp>? Summary = null) : ServerFrame;

public sealed record ChatCatchUp(string ChatId, int Count, long LastSeq);

public sealed record HistoryPageFrame(string? Rid, string ChatId, IReadOnlyList<MessageFrame> Messages, bool HasMore)
    : ServerFrame;

public sealed record PongFrame(long? T) : ServerFrame;

/// <summary>A refusal. <see cref="Code"/> is one of <see cref="ErrorCodes"/>; <see cref="Ref"/> names the clientMsgId or rid it answers.</summary>
/// <see cref="Missing"/>, <see cref="Extra"/> and <see cref="Changed"/> come with <c>stale_devices</c>: the devices an
/// end-to-end encrypted send lacked an envelope for, those it named that cannot receive one, and those whose envelope
/// was sealed for an identity key they have since replaced (a reinstall).
/// <param name="ChatId">
/// The chat of the `send` this error answers: a `clientMsgId` is unique only within one chat, so a client with
/// sends pending in several chats tells them apart by both (protocol §5, `error`). Null for other frames.
/// </param>
public sealed record ErrorFrame(string Code, string Message, string? Ref = null,
    IReadOnlyList<DeviceRef>? Missing = null, IReadOnlyList<DeviceRef>? Extra = null, string? ChatId = null,
    IReadOnlyList<DeviceRef>? Changed = null) : ServerFrame;

/// <summary>One device of one user.</summary>
public sealed record DeviceRef(string UserId, int DeviceId) : IComparable<DeviceRef>
{
    public int CompareTo(DeviceRef? other) => other is null ? 1
        : string.CompareOrdinal(UserId, other.UserId) is var byUser and not 0 ? byUser : DeviceId.CompareTo(other.DeviceId);
}

/// <summary>
/// A group action succeeded. <see cref="Seq"/> is its entry in the group's log (0 when nothing needed to
/// change); <see cref="InviteCode"/> is set on reset_invite, shown only to the admin who asked.
/// </summary>
public sealed record GroupResultFrame(string? Rid, string Action, string GroupId, long Seq, string? InviteCode = null)
    : ServerFrame;

/// <summary>Everything up to <see cref="DeliveredToAll"/> reached every member; up to <see cref="ReadByAll"/> was read by all.</summary>
public sealed record GroupReceiptsFrame(string ChatId, long DeliveredToAll, long ReadByAll) : ServerFrame;

/// <summary>Of the members at the time of message <see cref="Seq"/>: who has read it, who has only received it, who neither.</summary>
public sealed record MessageInfoFrame(string? Rid, string ChatId, long Seq, IReadOnlyList<string> ReadBy,
    IReadOnlyList<string> DeliveredTo, IReadOnlyList<string> Pending) : ServerFrame;

/// <summary>A member of <see cref="ChatId"/> is typing (<see cref="State"/> "typing") or stopped ("paused").</summary>
public sealed record TypingNoticeFrame(string ChatId, string UserId, string State) : ServerFrame;

/// <summary>
/// A user's presence: pushed (no <see cref="Rid"/>) when a contact comes online or goes offline, or the answer
/// to a <c>presence</c> request. <see cref="Visible"/> false means their privacy setting hides it from you.
/// </summary>
public sealed record PresenceFrame(string? Rid, string UserId, bool Visible, bool Online, DateTimeOffset? LastSeen) : ServerFrame;

/// <summary>This device has fewer than 10 one-time prekeys left: publish more (PUT /api/keys).</summary>
public sealed record PreKeysLowFrame(int Remaining) : ServerFrame;

/// <summary>A contact's device published a different identity key: their safety number changed.</summary>
public sealed record IdentityChangedFrame(string UserId, int DeviceId) : ServerFrame;

/// <summary>The user's (a contact's, or this account's own) keyed devices changed: refresh before the next send.</summary>
public sealed record DevicesChangedFrame(string UserId) : ServerFrame;

/// <summary>A new device asks to join this account; approve it with the code it shows (POST /api/devices/links/{linkId}/approve).</summary>
public sealed record LinkRequestFrame(string LinkId, string DeviceName, DateTimeOffset ExpiresAt) : ServerFrame;

/// <summary>Ciphertext from another device of this account (GET /api/devices/messages has every one not yet acknowledged).</summary>
public sealed record DeviceMessageFrame(long Id, int FromDevice, byte[] Data, DateTimeOffset At) : ServerFrame;
