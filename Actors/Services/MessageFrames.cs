using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;

namespace Natter.Actors.Services;

/// <summary>How stored entries and receipts look on the wire, shared by the socket and REST.</summary>
public static class MessageFrames
{
    /// <summary>An entry as <paramref name="user"/>'s <paramref name="device"/> sees it: with its own envelope only.</summary>
    public static MessageFrame Of(ChatMessage m, UserId user, DeviceId device) =>
        new(m.ChatId.Value, m.Seq, m.Sender.Value, m.SenderDevice.Value, m.ClientMsgId, m.Body, m.At,
            m.Change is { } c ? new GroupChangeFrame(c.Kind.ToString().ToLowerInvariant(), c.Users.Select(u => u.Value).ToList(), c.Name) : null,
            m.Media is { } media ? MediaFrames.ToFrame(media) : null,
            m.LiveLocation is { } live ? new LiveLocationFrame(live.Until) : null,
            m.EnvelopeFor(user, device),
            Sealed: m.Envelopes is not null);

    public static MessageInfoFrame Of(string? rid, ChatReplies.MessageReceipts r) =>
        new(rid, r.ChatId.Value, r.Seq, r.ReadBy.Select(u => u.Value).ToList(),
            r.DeliveredTo.Select(u => u.Value).ToList(), r.Pending.Select(u => u.Value).ToList());
}
