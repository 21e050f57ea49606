using Natter.Messages;
using Natter.Messages.Chats;

namespace Natter.Actors.Chats;

/// <summary>
/// A chat's state at one journal sequence number, stored every N events so recovery stays fast.
/// Fields after <see cref="Index"/> came with groups; older snapshots lack them.
/// </summary>
public sealed record ChatSnapshot(
    ChatId ChatId,
    bool Exists,
    ChatKind Kind,
    IReadOnlyList<UserId> Members,
    long LastSeq,
    DateTimeOffset? LastMessageAt,
    IReadOnlyList<ChatMessage> Recent,
    IReadOnlyList<DeviceDedupe> Dedupe,
    IReadOnlyList<DeviceCursor> DeviceDelivered,
    IReadOnlyList<UserCursor> UserDelivered,
    IReadOnlyList<UserCursor> UserRead,
    IReadOnlyList<IndexEntry> Index,
    string? Name = null,
    IReadOnlyList<UserId>? Admins = null,
    IReadOnlyList<UserCursor>? VisibleFrom = null,
    IReadOnlyList<UserCursor>? VisibleTo = null,
    string? InviteCodeHash = null) : INatterMessage;

public sealed record DeviceDedupe(UserId User, DeviceId Device, IReadOnlyList<string> ClientMsgIds, IReadOnlyList<long> Seqs);

public sealed record DeviceCursor(UserId User, DeviceId Device, long Seq);

public sealed record UserCursor(UserId User, long Seq);

public sealed record IndexEntry(long ChatSeq, long JournalSeqNr);
