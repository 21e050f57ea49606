using Akka.Actor;
using Akka.Event;
using Natter.Actors.Presence;
using Natter.Messages;
using Natter.Messages.Users;

namespace Natter.Actors.Connections;

/// <summary>
/// The connection's registration with its user's PresenceActor, through which direct chats' messages reach it.
/// That entity keeps its devices in memory only: when it dies (its node failed, its shard moved to another node)
/// the pushes sent to it meanwhile are gone, and the entity that replaces it knows no devices. So the connection
/// watches the entity that registered it, registers again at once when it dies (and again, backing off, until a
/// new one answers), and on that new registration fetches whatever its chats hold beyond what it has pushed.
/// Without this a message acknowledged during a failover would reach a connected device only with the chat's
/// next message or at the next sync.
/// </summary>
public sealed partial class ConnectionActor
{
    private sealed record PresenceRetry(TimeSpan Delay) : IDeadLetterSuppression;

    private sealed record CatchUpChatList(UserReplies.ChatList List);

    private static readonly TimeSpan FirstPresenceRetry = TimeSpan.FromSeconds(1);

    private IActorRef? _presenceEntity;
    private bool _presenceEverRegistered;
    private bool _hasSynced;

    /// <summary>The registration's own messages; false for anything else.</summary>
    private bool OnPresenceRegistration(object message)
    {
        switch (message)
        {
            case PresenceCommands.PresenceRegistered registered:
                OnPresenceRegistered(registered);
                return true;
            case Terminated t when t.ActorRef.Equals(_presenceEntity):
                _presenceEntity = null;
                _log.Info("Connection {0} of {1}/{2}: its presence entity stopped; registering again", _connectionId, _user, _device);
                AnnounceOnline();
                Context.System.Scheduler.ScheduleTellOnce(FirstPresenceRetry, Self, new PresenceRetry(FirstPresenceRetry), Self);
                return true;
            case Terminated:
                return true; // an entity this connection has already moved on from
            case PresenceRetry r:
                if (_presenceEntity is not null || _closing) return true;
                AnnounceOnline();
                // Until the shard is home again; the heartbeat's own refresh goes on at its period anyway.
                var next = TimeSpan.FromTicks(Math.Min(r.Delay.Ticks * 2, TimeSpan.FromSeconds(_settings.HeartbeatSeconds).Ticks));
                Context.System.Scheduler.ScheduleTellOnce(next, Self, new PresenceRetry(next), Self);
                return true;
            case CatchUpChatList c:
                CatchUpNewChats(c.List);
                return true;
            default:
                return false;
        }
    }

    private void AnnounceOnline() =>
        _presence.Tell(new PresenceCommands.DeviceOnline(_user, _device, _connectionId, Self, _connectedAt,
            DateTimeOffset.UtcNow, Registered: _presenceEntity is not null));

    private void OnPresenceRegistered(PresenceCommands.PresenceRegistered registered)
    {
        if (registered.Presence.Equals(_presenceEntity)) return;
        if (_presenceEntity is not null) Context.Unwatch(_presenceEntity);
        _presenceEntity = Context.Watch(registered.Presence);
        // The first registration is the connection's own start, which the client follows with a sync. Any later
        // one is an entity that started without this device: pushes may have been lost before it.
        if (_presenceEverRegistered) CatchUpAfterPresenceLoss();
        _presenceEverRegistered = true;
    }

    private void CatchUpAfterPresenceLoss()
    {
        _log.Info("Connection {0} of {1}/{2}: registered with a new presence entity; fetching what it may have missed",
            _connectionId, _user, _device);
        // Direct chats' messages come through presence; groups' come through this process's fanout.
        foreach (var (chatId, stream) in _streams)
            if (!chatId.IsGroup && stream.Known && !stream.Fetching) Fetch(chatId, stream);
        // A chat that started meanwhile is not among the streams yet. Only a client that has synced has them all;
        // one that never synced has asked for nothing but live messages.
        if (_hasSynced)
            _gateway.Users.Ask<UserReplies.ChatList>(new UserQueries.GetChatList(_user), _settings.AskTimeout)
                .PipeTo(Self, success: list => new CatchUpChatList(list),
                    failure: e => new Status.Failure(new Exception($"chat list for the catch-up after a presence loss: {e.Message}")));
    }

    private void CatchUpNewChats(UserReplies.ChatList list)
    {
        foreach (var chatId in list.Chats)
        {
            if (_streams.ContainsKey(chatId)) continue;
            SubscribeToGroup(chatId);
            // From this device's stored delivered cursor, as a sync would.
            Fetch(chatId, StreamOf(chatId));
        }
    }
}
