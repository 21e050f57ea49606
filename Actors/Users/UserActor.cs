using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Persistence;
using Natter.Actors.Presence;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Users;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserEvents;
using static Natter.Messages.Users.UserQueries;
using static Natter.Messages.Users.UserReplies;

namespace Natter.Actors.Users;

/// <summary>
/// One account: devices and chat list. Low traffic, so it persists with Persist (stashing) and stays simple.
/// One switch rather than ReceivePersistentActor's handlers, which are delegates built per instance (about 2 KB):
/// every user who is online has one of these alive.
/// </summary>
public sealed class UserActor : UntypedPersistentActor
{
    private const int SnapshotEvery = 200;
    private UserState _state;
    private readonly IActorRef _presence;
    private readonly IActorRef _chats;
    private readonly IActorRef _pubSub;

    public UserActor(string userId, IActorRef presence, IActorRef? chats = null, IActorRef? pubSub = null)
    {
        _presence = presence;
        _chats = chats ?? ActorRefs.Nobody;
        _pubSub = pubSub ?? ActorRefs.Nobody;
        _state = UserState.Empty(new UserId(userId));
        PersistenceId = PersistenceIdOf(_state.Id);
    }

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: UserState state }: _state = state; break;
            case IUserEvent e: _state = _state.Apply(e); break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case IUserCommand command: Handle(command); break;
            case GetAccount: Sender.Tell(new Account(_state.Id, _state.Exists, _state.Devices)); break;
            case GetChatList: Sender.Tell(new ChatList(_state.Id, _state.Chats)); break;
            case GetProfile: Sender.Tell(_state.ToProfile()); break;
            case GetUploads: Sender.Tell(_state.ToUploads()); break;
            case GetBackup: Sender.Tell(_state.ToBackup()); break;
            case GetKeysStatus q: Sender.Tell(_state.KeysStatusOf(q.Device)); break;
            case GetKeyedDevices: Sender.Tell(_state.ToKeyedDevices()); break;
            case GetDeviceInbox q: Sender.Tell(new DeviceInbox(_state.Id, q.Device, _state.InboxOf(q.Device))); break;
            case GetPendingLinks q:
                Sender.Tell(new PendingLinks(_state.Id, _state.LiveLinks(q.At).Where(l => l.ApprovedAs is null).ToList()));
                break;
            case SaveSnapshotSuccess s: DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)); break;
            // A failed snapshot only means recovery replays more events; nothing is lost.
            case SaveSnapshotFailure or DeleteSnapshotsSuccess or DeleteSnapshotsFailure: break;
            default: Unhandled(message); break;
        }
    }

    public override string PersistenceId { get; }

    /// <summary>
    /// A write that failed may still have been stored (a commit whose answer was lost): edges forget this user's devices
    /// rather than keep ones that may be out of date until they expire. The actor stops, as it would anyway.
    /// </summary>
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        PublishKeyedDevicesChanged();
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    private void PublishKeyedDevicesChanged() => _pubSub.Tell(new Publish(KeyedDevicesChanged.Topic, new KeyedDevicesChanged(_state.Id)));

    public static string PersistenceIdOf(UserId id) => $"user-{id.Value}";

    /// <param name="chats">Where group members are told of this user's identity changes (Nobody: they are not).</param>
    /// <param name="pubSub">The cluster's pub-sub mediator, told <see cref="KeyedDevicesChanged"/> (Nobody: no edge caches devices).</param>
    public static Props PropsFor(string userId, IActorRef presence, IActorRef? chats = null, IActorRef? pubSub = null) =>
        Props.Create(() => new UserActor(userId, presence, chats, pubSub));

    private void Handle(IUserCommand command)
    {
        var (events, rejection) = _state.Decide(command);
        var replyTo = Sender;
        var before = _state;
        if (events.Count == 0)
        {
            replyTo.Tell(rejection is { } r ? new UserRejected(_state.Id, r.Code, r.Reason) : ReplyFor(command, events, before));
            return;
        }

        PersistAll(events, e =>
        {
            _state = _state.Apply(e);
            if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(_state);
            TellDevices(e);
            if (!ReferenceEquals(e, events[^1])) return;
            // After the state changed, so an edge that asks once it has heard this gets the new devices.
            if (!before.SameKeyedDevices(_state)) PublishKeyedDevicesChanged();
            replyTo.Tell(rejection is { } r ? new UserRejected(_state.Id, r.Code, r.Reason) : ReplyFor(command, events, before));
        });
    }

    /// <summary>What online devices learn of a durable change: their own, and their contacts'.</summary>
    private void TellDevices(IUserEvent e)
    {
        switch (e)
        {
            case DeviceRemoved removed:
                // A removed device's open connection closes now, not when its token would expire.
                _presence.Tell(new PresenceCommands.DeviceRevoked(removed.UserId, removed.DeviceId));
                TellContactsAndSelf(new DeviceNotices.DevicesChanged(_state.Id));
                break;
            case DeviceKeysPublished { IdentityChanged: true } published:
                var changed = new DeviceNotices.IdentityChanged(_state.Id, published.Device);
                foreach (var contact in _state.Contacts())
                    _presence.Tell(new PresenceCommands.DeliverDeviceNotice(contact, null, changed));
                // Fellow group members seal to this device too, and may share no direct chat with this user.
                foreach (var group in _state.Chats.Where(c => c.DirectMembers() is null))
                    _chats.Tell(new ChatCommands.TellMembers(group, _state.Id, changed));
                TellContactsAndSelf(new DeviceNotices.DevicesChanged(_state.Id));
                break;
            case DeviceKeysPublished { First: true }:
            case DeviceListPublished:
                TellContactsAndSelf(new DeviceNotices.DevicesChanged(_state.Id));
                break;
            case PreKeysClaimed claimed:
                foreach (var device in claimed.Claims.Select(c => c.Device).Distinct())
                    if (_state.KeysOf(device)?.OneTimePreKeys.Count is { } left && left < UserState.LowPreKeys)
                        _presence.Tell(new PresenceCommands.DeliverDeviceNotice(_state.Id, device, new DeviceNotices.PreKeysLow(device, left)));
                break;
            case DeviceMessageQueued queued:
                _presence.Tell(new PresenceCommands.DeliverDeviceNotice(_state.Id, queued.Message.To, new DeviceNotices.DeviceMessageArrived(queued.Message)));
                break;
            case LinkRequested requested:
                _presence.Tell(new PresenceCommands.DeliverDeviceNotice(_state.Id, null,
                    new DeviceNotices.LinkRequested(requested.Link.LinkId, requested.Link.DeviceName, requested.Link.ExpiresAt)));
                break;
        }
    }

    private void TellContactsAndSelf(DeviceNotices.IDeviceNotice notice)
    {
        foreach (var user in _state.Contacts().Append(_state.Id))
            _presence.Tell(new PresenceCommands.DeliverDeviceNotice(user, null, notice));
    }

    private object ReplyFor(IUserCommand command, IReadOnlyList<IUserEvent> events, UserState before) => command switch
    {
        IssueVerification i => new VerificationIssued(_state.Id, i.ExpiresAt),
        VerifyAndLinkDevice => new DeviceLinked(_state.Id, events.OfType<DeviceRegistered>().Single().DeviceId,
            NewAccount: events.OfType<AccountCreated>().Any()),
        ListChat l => new ChatListed(_state.Id, l.ChatId),
        ChangeSettings or MuteChat or RegisterPush or UnregisterPush or RecordLastSeen => _state.ToProfile(),
        RecordUpload or ForgetUpload => _state.ToUploads(),
        RecordBackup or DeleteBackup => _state.ToBackup(),
        RemoveDevice or ApproveLink => new Account(_state.Id, _state.Exists, _state.Devices),
        PublishKeys p => _state.KeysStatusOf(p.Device),
        PublishDeviceList => _state.ToKeyedDevices(),
        ClaimBundles c => before.BundlesFor(c),
        RequestLink r => new LinkStarted(_state.Id, r.LinkId, r.ExpiresAt),
        SendDeviceMessage => new DeviceMessageSent(_state.Id, _state.LastDeviceMessageId),
        AckDeviceMessages a => new DeviceInbox(_state.Id, a.Device, _state.InboxOf(a.Device)),
        CompleteLink c => LinkedBy(before.LiveLinks(c.At).First(l => l.LinkId == c.LinkId)),
        _ => new UserRejected(_state.Id, "unknown_command", command.GetType().Name),
    };

    private DeviceLinked LinkedBy(PendingLink link) => new(_state.Id, link.ApprovedAs!.Value, NewAccount: false, link.Endorsement);
}
