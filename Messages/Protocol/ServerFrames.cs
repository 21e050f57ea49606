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

/// <summary>One message of a chat. Clients dedupe by (chatId, seq).</summary>
public sealed record MessageFrame(
    string ChatId,
    long Seq,
    string Sender,
    int SenderDevice,
    string ClientMsgId,
    byte[] Body,
    DateTimeOffset Ts) : ServerFrame;

/// <summary>
/// A member has received (kind "delivered") or read (kind "read") everything up to <see cref="Seq"/>.
/// <see cref="Ts"/> is absent on the receipts a sync replays (the time of a cursor is not kept).
/// </summary>
public sealed record ReceiptFrame(string ChatId, string UserId, string Kind, long Seq, DateTimeOffset? Ts) : ServerFrame;

public sealed record ChatOpenedFrame(string? Rid, string ChatId, string Peer) : ServerFrame;

/// <summary>Everything stored before the sync was pushed; live messages follow.</summary>
public sealed record SyncedFrame(int Chats, int Messages) : ServerFrame;

public sealed record HistoryPageFrame(string? Rid, string ChatId, IReadOnlyList<MessageFrame> Messages, bool HasMore)
    : ServerFrame;

public sealed record PongFrame(long? T) : ServerFrame;

/// <summary>A refusal. <see cref="Code"/> is one of <see cref="ErrorCodes"/>; <see cref="Ref"/> names the clientMsgId or rid it answers.</summary>
public sealed record ErrorFrame(string Code, string Message, string? Ref = null) : ServerFrame;
