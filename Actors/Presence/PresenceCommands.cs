using Akka.Actor;
using Akka.Event;
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
    /// that moved to another node during a rebalance relearns its devices, and one that lost a connection's
    /// <see cref="DeviceOffline"/> forgets it once its refreshes stop).
    /// </summary>
    /// <param name="ConnectedAt">When the connection opened: of two connections of a device, the newer one stays.</param>
    /// <param name="Registered">
    /// The connection holds a <see cref="PresenceRegistered"/> from a live entity. When false, the entity answers
    /// with one even if it already knew the connection.
    /// </param>
    /// <param name="RefreshSeconds">
    /// How often the connection sends this again: an entity that has heard nothing from it for
    /// <see cref="PresenceActor.MissedRefreshes"/> periods takes the device as gone.
    /// </param>
    public sealed record DeviceOnline(UserId UserId, DeviceId Device, string ConnectionId, IActorRef Connection,
        DateTimeOffset ConnectedAt, DateTimeOffset At, bool Registered = false, int RefreshSeconds = 30) : IWithUserId;

    /// <summary>
    /// Told to a connection when a presence entity starts serving it. <see cref="Incarnation"/> names that entity
    /// (a new one for every start, on any node). The connection holds it, and its sender's node, rather than a
    /// death watch: an entity that stops tells its connections (<see cref="PresenceStopped"/>) and a node that
    /// leaves the cluster is announced to every connection of the process (<see cref="MemberDeparted"/>). Either
    /// way pushes to the device were lost meanwhile, so the connection registers again at once and, on the next
    /// registration (a new incarnation), fetches what its chats hold beyond what it has pushed.
    /// </summary>
    /// <param name="Fresh">
    /// The entity did not know this connection: a connection that was registered already (with this incarnation
    /// too, if the entity dropped it by mistake) may have missed pushes, and catches up.
    /// </param>
    public sealed record PresenceRegistered(UserId UserId, DeviceId Device, long Incarnation, bool Fresh = false) : INatterMessage;

    /// <summary>Told by a presence entity, as it stops (a rebalance, a restart), to each connection it served.</summary>
    public sealed record PresenceStopped(UserId UserId, DeviceId Device, long Incarnation) : INatterMessage, IDeadLetterSuppression;

    /// <summary>
    /// A cluster member was removed (it failed and was downed, or it left): told, within each process, to every
    /// connection and every presence entity, instead of a death watch per connection in each direction. A
    /// connection whose entity lived there registers again; an entity forgets the devices whose connections lived
    /// there. Local to a process, never sent between nodes.
    /// </summary>
    public sealed record MemberDeparted(Address Address) : IDeadLetterSuppression;

    public sealed record DeviceOffline(UserId UserId, DeviceId Device, string ConnectionId, DateTimeOffset At) : IWithUserId;

    /// <summary>Push a chat notice to every online device of <see cref="UserId"/>.</summary>
    public sealed record DeliverNotice(UserId UserId, ChatNotices.IChatNotice Notice) : IWithUserId;

    /// <summary>
    /// A direct chat asks for <see cref="UserId"/>'s connections: the entity answers <see cref="DeviceRoutes"/> and
    /// tells it again at every change until the chat or the entity stops, so the chat can push to them itself
    /// (<see cref="Chats.MemberRoutes"/>). <see cref="Ask"/> numbers the chat's requests for this user, so that it can
    /// tell the answer to its latest one from an older answer or change still on its way.
    /// </summary>
    public sealed record WatchRoutes(UserId UserId, IActorRef Chat, long Ask) : IWithUserId;

    /// <summary>
    /// The connections of <see cref="UserId"/>'s online devices, told by its PresenceActor to each chat that asked
    /// (<see cref="WatchRoutes"/>): as the answer, and again whenever a connection comes or goes. <see cref="Ask"/>: the
    /// latest request of that chat the entity had taken when it told this.
    /// </summary>
    public sealed record DeviceRoutes(UserId UserId, IReadOnlyList<IActorRef> Connections, long Ask) : INatterMessage;

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
