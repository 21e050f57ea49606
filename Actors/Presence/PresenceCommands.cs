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
    /// <param name="Registered">
    /// The connection holds a <see cref="PresenceRegistered"/> from a live entity. When false, the entity answers
    /// with one even if it already knew the connection.
    /// </param>
    public sealed record DeviceOnline(UserId UserId, DeviceId Device, string ConnectionId, IActorRef Connection,
        DateTimeOffset ConnectedAt, DateTimeOffset At, bool Registered = false) : IWithUserId;

    /// <summary>
    /// Told to a connection when a presence entity starts serving it. The connection watches
    /// <see cref="Presence"/>: if that entity dies (its node failed, its shard moved), pushes to the device were
    /// lost meanwhile, so the connection registers again at once and, on the next registration, fetches what its
    /// chats hold beyond what it has pushed.
    /// </summary>
    public sealed record PresenceRegistered(UserId UserId, DeviceId Device, IActorRef Presence) : INatterMessage;

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
