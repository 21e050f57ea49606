using Akka.Actor;
using Akka.Event;
using Natter.Actors.Presence;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Users;

namespace Natter.Actors.Connections;

/// <summary>
/// The connection's registration with its user's PresenceActor, from which direct chats learn where to push to it
/// (and through which their pushes come until they have). That entity keeps its devices in memory only: when it
/// dies (its node failed, its shard moved to another node) the pushes sent through it meanwhile are gone, and the
/// entity that replaces it knows no devices. So the connection
/// keeps which entity registered it (its incarnation and node), registers again at once when that entity says it
/// is stopping or its node leaves the cluster (and again, backing off, until a new one answers), and on that new
/// registration catches up: it fetches whatever its chats hold beyond what it has pushed. Without this a message
/// acknowledged during a failover would reach a connected device only with the chat's next message or at the next
/// sync. No death watch: a remote watch in each direction cost about 1 KB on each side of every connection, and
/// the heartbeat's refresh is the backstop for a notice that never came (a new incarnation answers it).
/// The catch-up is the connection's own business, not the client's: one chat at a time (a failover does this for
/// every connection whose entity was on the lost node) and only while the client's queue is at most half full, and a
/// chat that does not answer (its shard may be moving too) goes to the back of the line and is tried again quietly,
/// instead of the client being asked to sync.
/// </summary>
public sealed partial class ConnectionActor
{
    private sealed record PresenceRetry(int Generation, TimeSpan Delay) : IDeadLetterSuppression;

    private sealed record CatchUpChatList(UserReplies.ChatList? List, int Attempt);

    private static readonly TimeSpan FirstPresenceRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CatchUpRetryDelay = TimeSpan.FromSeconds(2);
    private const int MaxCatchUpAttempts = 10;
    // One chat at a time: after a failover every connection whose entity was on the lost node catches up at
    // once, and each fetch may wake a chat that has to recover. The client's queue is guarded by the page budget.
    private const int MaxCatchUpFetches = 1;

    private long _presenceIncarnation; // 0: no live entity known
    private Address? _presenceNode;
    private int _presenceGeneration;
    private bool _presenceEverRegistered;
    private bool _hasSynced;
    private Queue<ChatId>? _catchUpQueue;
    private int _catchUpFetches;

    /// <summary>The registration's own messages; false for anything else.</summary>
    private bool OnPresenceRegistration(object message)
    {
        switch (message)
        {
            case PresenceCommands.PresenceRegistered registered:
                OnPresenceRegistered(registered);
                return true;
            case PresenceCommands.PresenceStopped stopped:
                // An entity this connection has already moved on from says nothing about the current one.
                if (stopped.Incarnation == _presenceIncarnation) PresenceLost("its presence entity stopped");
                return true;
            case PresenceCommands.MemberDeparted departed:
                if (_presenceIncarnation != 0 && departed.Address.Equals(_presenceNode)) PresenceLost("the node of its presence entity left the cluster");
                return true;
            case PresenceRetry r:
                if (r.Generation != _presenceGeneration || _presenceIncarnation != 0 || _closing) return true;
                AnnounceOnline();
                // Until the shard is home again; past the heartbeat period, the heartbeat's own refresh does it.
                var next = r.Delay * 2;
                if (next < TimeSpan.FromSeconds(_settings.HeartbeatSeconds))
                    Context.System.Scheduler.ScheduleTellOnce(next, Self, r with { Delay = next }, Self);
                return true;
            case CatchUpChatList { List: { } list }:
                CatchUpNewChats(list);
                return true;
            case CatchUpChatList failed:
                if (failed.Attempt < MaxCatchUpAttempts)
                    Context.System.Scheduler.ScheduleTellOnce(CatchUpRetryDelay, Self, new AskCatchUpChatList(failed.Attempt + 1), Self);
                else
                    Log.Warning("Connection {0}: no chat list for the catch-up after a presence loss; new chats arrive at the next sync", _connectionId);
                return true;
            case AskCatchUpChatList ask:
                AskChatListForCatchUp(ask.Attempt);
                return true;
            case RequeueCatchUp requeue:
                QueueCatchUp(requeue.ChatId);
                PumpCatchUp();
                return true;
            default:
                return false;
        }
    }

    private sealed record AskCatchUpChatList(int Attempt) : IDeadLetterSuppression;

    private sealed record RequeueCatchUp(ChatId ChatId) : IDeadLetterSuppression;

    private void AnnounceOnline() =>
        _presence.Tell(new PresenceCommands.DeviceOnline(_user, _device, _connectionId, Self, _connectedAt,
            DateTimeOffset.UtcNow, Registered: _presenceIncarnation != 0, RefreshSeconds: _settings.HeartbeatSeconds));

    private void PresenceLost(string why)
    {
        _presenceIncarnation = 0;
        _presenceNode = null;
        Log.Info("Connection {0} of {1}/{2}: {3}; registering again", _connectionId, _user, _device, why);
        AnnounceOnline();
        // A new chain of retries; an older one (the entity died twice in a row) ends at its next tick.
        Context.System.Scheduler.ScheduleTellOnce(FirstPresenceRetry, Self, new PresenceRetry(++_presenceGeneration, FirstPresenceRetry), Self);
    }

    private void OnPresenceRegistered(PresenceCommands.PresenceRegistered registered)
    {
        // The same entity answering again is news only if it did not know this connection any more (it took the
        // device as gone): pushes may have been skipped meanwhile.
        if (registered.Incarnation == _presenceIncarnation && !registered.Fresh) return;
        _presenceIncarnation = registered.Incarnation;
        // The node's address, one instance per node rather than one per connection.
        _presenceNode = NodeAddresses.Intern(Sender.Path.Address);
        // The first registration is the connection's own start, which the client follows with a sync. Any later
        // one is an entity that started without this device: pushes may have been lost before it.
        if (_presenceEverRegistered) CatchUpAfterPresenceLoss();
        _presenceEverRegistered = true;
    }

    private void CatchUpAfterPresenceLoss()
    {
        Log.Info("Connection {0} of {1}/{2}: registered with a new presence entity; fetching what it may have missed",
            _connectionId, _user, _device);
        // Direct chats' messages come from the chats, by routes presence told them, or through presence; groups'
        // come through this process's fanout.
        foreach (var (chatId, stream) in _streams ?? [])
        {
            if (chatId.IsGroup || !stream.Known) continue;
            stream.CatchUpAttempts = 0;
            QueueCatchUp(chatId);
        }
        // A chat that started meanwhile is not among the streams yet. Only a client that has synced has them all;
        // one that never synced has asked for nothing but live messages.
        if (_hasSynced) AskChatListForCatchUp(1);
        PumpCatchUp();
    }

    private void AskChatListForCatchUp(int attempt) =>
        _gateway.Users.Ask<UserReplies.ChatList>(new UserQueries.GetChatList(_user), _settings.AskTimeout)
            .PipeTo(Self, success: list => new CatchUpChatList(list, attempt), failure: _ => new CatchUpChatList(null, attempt));

    private void CatchUpNewChats(UserReplies.ChatList list)
    {
        foreach (var chatId in list.Chats)
        {
            if (_streams?.ContainsKey(chatId) == true) continue;
            SubscribeToGroup(chatId);
            StreamOf(chatId); // unknown: fetched from this device's stored delivered cursor, as a sync would
            QueueCatchUp(chatId);
        }
        PumpCatchUp();
    }

    private void QueueCatchUp(ChatId chatId) => (_catchUpQueue ??= new Queue<ChatId>()).Enqueue(chatId);

    private void PumpCatchUp()
    {
        while (_catchUpFetches < MaxCatchUpFetches && _catchUpQueue is { Count: > 0 } queue && !_closing)
        {
            var chatId = queue.Dequeue();
            var stream = StreamOf(chatId);
            // A fetch already under way (a sync, a gap) reads on to the end of the chat anyway.
            if (stream.Fetching || stream.CatchingUp) continue;
            stream.CatchingUp = true;
            _catchUpFetches++;
            FetchWhenItFits(chatId, stream);
        }
        if (_catchUpQueue is { Count: 0 }) _catchUpQueue = null;
    }

    /// <summary>
    /// A catch-up fetch the chat did not answer: true if the chat goes to the back of the line to be tried again
    /// (quietly, after a pause), false if the caller reports the failure as for any fetch.
    /// </summary>
    private bool RetryCatchUp(ChatId chatId, ChatStream stream, object reply)
    {
        if (!stream.CatchingUp || stream.InSync || reply is ChatReplies.ChatRejected) return false;
        if (++stream.CatchUpAttempts >= MaxCatchUpAttempts)
        {
            Log.Warning("Connection {0}: catch-up of {1} failed {2} times; it arrives with the chat's next message or the next sync",
                _connectionId, chatId, stream.CatchUpAttempts);
            return false;
        }
        FinishCatchUpOf(stream);
        Context.System.Scheduler.ScheduleTellOnce(CatchUpRetryDelay, Self, new RequeueCatchUp(chatId), Self);
        return true;
    }

    /// <summary>The stream has caught up (or given up): the next chat in line may go.</summary>
    private void FinishCatchUpOf(ChatStream stream)
    {
        if (!stream.CatchingUp) return;
        stream.CatchingUp = false;
        _catchUpFetches--;
        PumpCatchUp();
    }
}
