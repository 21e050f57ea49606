using System.Text.Json.Serialization;

namespace Natter.Messages.Protocol;

/// <summary>A frame a client sends over /ws (protocol v1). See docs/protocol.md.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(SendFrame), "send")]
[JsonDerivedType(typeof(OpenChatFrame), "open_chat")]
[JsonDerivedType(typeof(SyncFrame), "sync")]
[JsonDerivedType(typeof(DeliveredFrame), "delivered")]
[JsonDerivedType(typeof(ReadFrame), "read")]
[JsonDerivedType(typeof(HistoryFrame), "history")]
[JsonDerivedType(typeof(PingFrame), "ping")]
[JsonDerivedType(typeof(GroupFrame), "group")]
[JsonDerivedType(typeof(MessageInfoRequestFrame), "message_info")]
[JsonDerivedType(typeof(TypingFrame), "typing")]
[JsonDerivedType(typeof(PresenceRequestFrame), "presence")]
[JsonDerivedType(typeof(LocationFrame), "location")]
[JsonDerivedType(typeof(LocationStopFrame), "location_stop")]
public abstract record ClientFrame;

/// <summary>Send a message. <see cref="Body"/> is base64 of opaque client bytes.</summary>
public sealed record SendFrame : ClientFrame
{
    public required string ChatId { get; init; }
    public required string ClientMsgId { get; init; }
    public required byte[] Body { get; init; }

    /// <summary>
    /// End-to-end encrypted: the body's content key sealed for each recipient device (docs/e2ee.md). When
    /// present it must name every keyed device of every member but the sending one, or the send gets
    /// <c>stale_devices</c> with the difference.
    /// </summary>
    public IReadOnlyList<EnvelopeFrame>? Envelopes { get; init; }

    /// <summary>An uploaded blob this message carries (a media message); the body may then be empty.</summary>
    public MediaFrame? Media { get; init; }

    /// <summary>This message starts a live-location share (its body the first position); updates follow as <c>location</c> frames.</summary>
    public LiveLocationRequest? LiveLocation { get; init; }
}

public sealed record LiveLocationRequest
{
    public const int MaxSeconds = 8 * 60 * 60;

    public required int DurationSeconds { get; init; }
}

/// <summary>Ephemeral: a new position (opaque bytes: ciphertext once end-to-end encryption lands) of this user's share <see cref="ShareSeq"/>.</summary>
public sealed record LocationFrame : ClientFrame
{
    public required string ChatId { get; init; }
    public required long ShareSeq { get; init; }
    public required byte[] Body { get; init; }
}

/// <summary>Ends this user's live-location share <see cref="ShareSeq"/> before its time.</summary>
public sealed record LocationStopFrame : ClientFrame
{
    public required string ChatId { get; init; }
    public required long ShareSeq { get; init; }
}

/// <summary>Get (creating if needed) the direct chat with <see cref="Peer"/>.</summary>
public sealed record OpenChatFrame : ClientFrame
{
    public string? Rid { get; init; }
    public required string Peer { get; init; }
}

/// <summary>Catch up: every chat of the user, after the given per-chat cursors (or the device's stored cursor).</summary>
public sealed record SyncFrame : ClientFrame
{
    public Dictionary<string, long>? Cursors { get; init; }
}

public sealed record DeliveredFrame : ClientFrame
{
    public required string ChatId { get; init; }
    public required long Seq { get; init; }
}

public sealed record ReadFrame : ClientFrame
{
    public required string ChatId { get; init; }
    public required long Seq { get; init; }
}

/// <summary>A page of history, newest first, before <see cref="Before"/> (latest when absent).</summary>
public sealed record HistoryFrame : ClientFrame
{
    public string? Rid { get; init; }
    public required string ChatId { get; init; }
    public long? Before { get; init; }
    public int? Limit { get; init; }
}

public sealed record PingFrame : ClientFrame
{
    public long? T { get; init; }
}

/// <summary>
/// Create or change a group. <see cref="Action"/> is one of create, add, remove, leave, join, promote, demote,
/// rename, reset_invite; <see cref="UserIds"/> are phone numbers (the initial members on create).
/// </summary>
public sealed record GroupFrame : ClientFrame
{
    public string? Rid { get; init; }
    public required string Action { get; init; }
    public string? GroupId { get; init; }
    public IReadOnlyList<string>? UserIds { get; init; }
    public string? Name { get; init; }
    public string? InviteCode { get; init; }
}

/// <summary>Who of the chat's members has received and read message <see cref="Seq"/> (WhatsApp's "message info").</summary>
public sealed record MessageInfoRequestFrame : ClientFrame
{
    public string? Rid { get; init; }
    public required string ChatId { get; init; }
    public required long Seq { get; init; }
}

/// <summary>Ephemeral: this user is typing in a chat (<see cref="State"/> "typing") or stopped ("paused").</summary>
public sealed record TypingFrame : ClientFrame
{
    public required string ChatId { get; init; }
    public required string State { get; init; }
}

/// <summary>Is <see cref="UserId"/> online, and when were they last seen (as their privacy setting allows)?</summary>
public sealed record PresenceRequestFrame : ClientFrame
{
    public string? Rid { get; init; }
    public required string UserId { get; init; }
}

/// <summary>
/// A message's content key sealed for one device; <see cref="Identity"/>, when given, names the identity key it was
/// sealed for (<see cref="IdentityTags"/>), and a send sealed for a key the device has since replaced is refused.
/// </summary>
public sealed record EnvelopeFrame(string UserId, int DeviceId, byte[] Data, string? Identity = null);
