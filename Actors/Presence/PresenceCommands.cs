using Akka.Actor;
using Natter.Messages;
using Natter.Messages.Chats;

namespace Natter.Actors.Presence;

/// <summary>
/// Messages of the PresenceActor. They live here rather than in Messages because they carry the
/// IActorRef of a device's connection, which is meaningful only inside the cluster.
/// </summary>
public static class PresenceCommands
{
    /// <summary>
    /// A device's connection is open (sent on connect and again on every heartbeat, so a presence entity
    /// that moved to another node during a rebalance relearns its devices).
    /// </summary>
    /// <param name="ConnectedAt">When the connection opened: of two connections of a device, the newer one stays.</param>
    public sealed record DeviceOnline(UserId UserId, DeviceId Device, string ConnectionId, IActorRef Connection,
        DateTimeOffset ConnectedAt, DateTimeOffset At) : IWithUserId;

    public sealed record DeviceOffline(UserId UserId, DeviceId Device, string ConnectionId, DateTimeOffset At) : IWithUserId;

    /// <summary>Push a chat notice to every online device of <see cref="UserId"/>.</summary>
    public sealed record DeliverNotice(UserId UserId, ChatNotices.IChatNotice Notice) : IWithUserId;

    public sealed record GetPresence(UserId UserId) : IWithUserId;

    public sealed record PresenceStatus(UserId UserId, IReadOnlyList<DeviceId> OnlineDevices, DateTimeOffset? LastSeen)
        : INatterMessage;

    /// <summary>Push a device notice to one online device of <see cref="UserId"/>, or to all of them when <see cref="Device"/> is null.</summary>
    public sealed record DeliverDeviceNotice(UserId UserId, DeviceId? Device, Natter.Messages.Users.DeviceNotices.IDeviceNotice Notice) : IWithUserId;

    /// <summary>The device was removed from the account: its open connection (if any) is closed at once.</summary>
    public sealed record DeviceRevoked(UserId UserId, DeviceId Device) : IWithUserId;

    /// <summary>Told to a connection that another connection of the same device replaced it.</summary>
    public sealed record SessionReplaced(UserId UserId, DeviceId Device, string ConnectionId) : INatterMessage;

    /// <summary>Ask what <paramref name="Viewer"/> may see of <see cref="UserId"/>'s presence. Replies <see cref="PresenceView"/>.</summary>
    public sealed record ViewPresence(UserId UserId, UserId Viewer) : IWithUserId;

    /// <summary>
    /// <see cref="Visible"/> false: the user's privacy setting hides their presence from the viewer, and
    /// <see cref="Online"/>/<see cref="LastSeen"/> say nothing.
    /// </summary>
    public sealed record PresenceView(UserId UserId, bool Visible, bool Online, DateTimeOffset? LastSeen) : INatterMessage;

    /// <summary>A contact came online or went offline; pushed to the online devices of <see cref="UserId"/>.</summary>
    public sealed record DeliverPresence(UserId UserId, PresenceChanged Change) : IWithUserId;

    public sealed record PresenceChanged(UserId User, bool Online, DateTimeOffset? LastSeen) : INatterMessage;
}
