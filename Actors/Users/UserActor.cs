using Akka.Actor;
using Akka.Persistence;
using Natter.Actors.Presence;
using Natter.Messages;
using Natter.Messages.Users;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserEvents;
using static Natter.Messages.Users.UserQueries;
using static Natter.Messages.Users.UserReplies;

namespace Natter.Actors.Users;

/// <summary>One account: devices and chat list. Low traffic, so it persists with Persist (stashing) and stays simple.</summary>
public sealed class UserActor : ReceivePersistentActor
{
    private const int SnapshotEvery = 200;
    private UserState _state;
    private readonly IActorRef _presence;

    public UserActor(string userId, IActorRef presence)
    {
        _presence = presence;
        _state = UserState.Empty(new UserId(userId));
        PersistenceId = PersistenceIdOf(_state.Id);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is UserState state) _state = state;
        });
        Recover<IUserEvent>(e => _state = _state.Apply(e));

        Command<IUserCommand>(Handle);
        Command<GetAccount>(_ => Sender.Tell(new Account(_state.Id, _state.Exists, _state.Devices)));
        Command<GetChatList>(_ => Sender.Tell(new ChatList(_state.Id, _state.Chats)));
        Command<GetProfile>(_ => Sender.Tell(_state.ToProfile()));
        Command<GetUploads>(_ => Sender.Tell(_state.ToUploads()));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(_ => { /* recovery replays more events; nothing is lost */ });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    public override string PersistenceId { get; }

    public static string PersistenceIdOf(UserId id) => $"user-{id.Value}";

    public static Props PropsFor(string userId, IActorRef presence) => Props.Create(() => new UserActor(userId, presence));

    private void Handle(IUserCommand command)
    {
        var (events, rejection) = _state.Decide(command);
        var replyTo = Sender;
        if (events.Count == 0)
        {
            replyTo.Tell(rejection is { } r ? new UserRejected(_state.Id, r.Code, r.Reason) : ReplyFor(command, events));
            return;
        }

        PersistAll(events, e =>
        {
            _state = _state.Apply(e);
            if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(_state);
            // A removed device's open connection closes now, not when its token would expire.
            if (e is DeviceRemoved removed) _presence.Tell(new PresenceCommands.DeviceRevoked(removed.UserId, removed.DeviceId));
            if (!ReferenceEquals(e, events[^1])) return;
            replyTo.Tell(rejection is { } r ? new UserRejected(_state.Id, r.Code, r.Reason) : ReplyFor(command, events));
        });
    }

    private object ReplyFor(IUserCommand command, IReadOnlyList<IUserEvent> events) => command switch
    {
        IssueVerification i => new VerificationIssued(_state.Id, i.ExpiresAt),
        VerifyAndLinkDevice => new DeviceLinked(_state.Id, events.OfType<DeviceRegistered>().Single().DeviceId,
            NewAccount: events.OfType<AccountCreated>().Any()),
        ListChat l => new ChatListed(_state.Id, l.ChatId),
        ChangeSettings or MuteChat or RegisterPush or RecordLastSeen => _state.ToProfile(),
        RecordUpload or ForgetUpload => _state.ToUploads(),
        RemoveDevice => new Account(_state.Id, _state.Exists, _state.Devices),
        _ => new UserRejected(_state.Id, "unknown_command", command.GetType().Name),
    };
}
