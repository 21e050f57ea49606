using Akka.Actor;
using Natter.Actors.Chats;
using Natter.Messages;
using Natter.Messages.Chats;

namespace Natter.Actors.Connections;

/// <summary>
/// One per edge process: hands a group's live entries to the local connections of its members. The ChatActor
/// tells this actor each entry once, whatever the number of members connected here, so a group's fan-out costs
/// one remote message per edge process and one local message per connected device.
/// A (group, user) is served only once the ChatActor has accepted it as a member; a membership that ends in
/// the log ends here when that entry passes. If the ChatActor stops (passivation, rebalance, node loss) the
/// subscriptions are asked again after a short pause, and connections fetch whatever they missed meanwhile.
/// </summary>
public sealed class ChatFanout : ReceiveActor
{
    /// <summary>A connection of <paramref name="User"/> wants <paramref name="ChatId"/>'s live entries.</summary>
    public sealed record Subscribe(ChatId ChatId, UserId User, IActorRef Connection) : INoSerializationVerificationNeeded;

    public sealed record Unsubscribe(ChatId ChatId, IActorRef Connection) : INoSerializationVerificationNeeded;

    /// <summary>Told to every connection when this actor restarts and loses its subscriptions: subscribe again.</summary>
    public sealed record SubscribeAgain : INoSerializationVerificationNeeded
    {
        public static readonly SubscribeAgain Instance = new();
    }

    private sealed record Rewatch(ChatId ChatId);

    private sealed class Subscription
    {
        public readonly Dictionary<UserId, HashSet<IActorRef>> Connections = new();
        public readonly HashSet<UserId> Accepted = new();
        public readonly HashSet<UserId> Requested = new();
        public IActorRef? Chat;
        public long Head;
    }

    private readonly IActorRef _chats;
    private readonly TimeSpan _rewatchDelay;
    private readonly Dictionary<ChatId, Subscription> _subscriptions = new();
    private readonly Dictionary<IActorRef, HashSet<ChatId>> _chatsOfConnection = new();
    private readonly Dictionary<IActorRef, ChatId> _chatOfActor = new();

    public ChatFanout(IActorRef chats, TimeSpan rewatchDelay)
    {
        _chats = chats;
        _rewatchDelay = rewatchDelay;
        Receive<Subscribe>(OnSubscribe);
        Receive<Unsubscribe>(u => Remove(u.Connection, u.ChatId));
        Receive<ChatWatch.ChatWatched>(OnWatched);
        Receive<ChatNotices.IChatNotice>(OnNotice);
        Receive<Terminated>(OnTerminated);
        Receive<Rewatch>(OnRewatch);
    }

    public static Props PropsFor(IActorRef chats, TimeSpan rewatchDelay) =>
        Props.Create(() => new ChatFanout(chats, rewatchDelay));

    private void OnSubscribe(Subscribe s)
    {
        if (!_subscriptions.TryGetValue(s.ChatId, out var sub)) _subscriptions[s.ChatId] = sub = new Subscription();
        if (!sub.Connections.TryGetValue(s.User, out var connections)) sub.Connections[s.User] = connections = new HashSet<IActorRef>();
        connections.Add(s.Connection);
        if (!_chatsOfConnection.TryGetValue(s.Connection, out var chats))
        {
            _chatsOfConnection[s.Connection] = chats = new HashSet<ChatId>();
            Context.Watch(s.Connection);
        }
        chats.Add(s.ChatId);

        if (sub.Accepted.Contains(s.User))
            s.Connection.Tell(new ChatWatch.ChatHead(s.ChatId, sub.Head));
        else if (sub.Requested.Add(s.User))
            _chats.Tell(new ChatWatch.WatchChat(s.ChatId, s.User, Self));
    }

    private void OnWatched(ChatWatch.ChatWatched w)
    {
        if (!_subscriptions.TryGetValue(w.ChatId, out var sub)) return;
        sub.Requested.Remove(w.User);
        if (!w.Accepted) return;
        if (!sub.Connections.TryGetValue(w.User, out var connections))
        {
            // Every connection of the user left while the request was in flight.
            _chats.Tell(new ChatWatch.UnwatchChat(w.ChatId, w.User, Self));
            return;
        }
        if (!Equals(sub.Chat, Sender))
        {
            // A new incarnation of the chat (or the first answer after the old one stopped) knows only this
            // user: everyone else on this edge asks again.
            if (sub.Chat is not null) _chatOfActor.Remove(sub.Chat);
            sub.Accepted.Clear();
            sub.Chat = Sender;
            _chatOfActor[Sender] = w.ChatId;
            Context.Watch(Sender);
            RequestMissing(w.ChatId, sub, except: w.User);
        }
        sub.Accepted.Add(w.User);
        sub.Head = Math.Max(sub.Head, w.LastSeq);
        foreach (var connection in connections) connection.Tell(new ChatWatch.ChatHead(w.ChatId, w.LastSeq));
    }

    private void OnNotice(ChatNotices.IChatNotice notice)
    {
        if (!_subscriptions.TryGetValue(notice.ChatId, out var sub)) return;
        // A sealed message to a large group carries thousands of envelopes: each user's connections get only
        // that user's, split once here rather than searched by every connection.
        var byUser = notice is ChatNotices.NewMessage { Message.Envelopes: { } envelopes }
            ? envelopes.GroupBy(e => e.User).ToDictionary(g => g.Key, g => (IReadOnlyList<DeviceEnvelope>)g.ToList())
            : null;
        foreach (var user in sub.Accepted)
        {
            var forUser = byUser is null ? notice
                : notice is ChatNotices.NewMessage sealedNotice
                    ? sealedNotice with { Message = sealedNotice.Message with { Envelopes = byUser.GetValueOrDefault(user) ?? [] } }
                    : notice;
            foreach (var connection in sub.Connections[user])
                connection.Tell(forUser);
        }
        if (notice is not ChatNotices.NewMessage { Message: var entry }) return;
        sub.Head = Math.Max(sub.Head, entry.Seq);
        // The removal itself was delivered above; nothing after it is.
        if (entry.Change is { Kind: GroupChangeKind.Removed or GroupChangeKind.Left } change)
            sub.Accepted.ExceptWith(change.Users);
    }

    private void OnTerminated(Terminated t)
    {
        if (_chatOfActor.Remove(t.ActorRef, out var chatId))
        {
            if (!_subscriptions.TryGetValue(chatId, out var sub)) return;
            sub.Chat = null;
            sub.Accepted.Clear();
            sub.Requested.Clear();
            // Spread re-subscriptions so a restarting node is not asked by every edge at once.
            var delay = _rewatchDelay + TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)_rewatchDelay.TotalMilliseconds + 1));
            Context.System.Scheduler.ScheduleTellOnce(delay, Self, new Rewatch(chatId), Self);
            return;
        }
        if (!_chatsOfConnection.TryGetValue(t.ActorRef, out var chats)) return;
        foreach (var chat in chats.ToList()) Remove(t.ActorRef, chat);
    }

    private void OnRewatch(Rewatch r)
    {
        if (_subscriptions.TryGetValue(r.ChatId, out var sub)) RequestMissing(r.ChatId, sub);
    }

    /// <summary>Asks the chat for every user here who is neither accepted nor already asked for.</summary>
    private void RequestMissing(ChatId chatId, Subscription sub, UserId? except = null)
    {
        foreach (var user in sub.Connections.Keys.Where(u => u != except && !sub.Accepted.Contains(u) && sub.Requested.Add(u)))
            _chats.Tell(new ChatWatch.WatchChat(chatId, user, Self));
    }

    protected override void PreRestart(Exception reason, object message)
    {
        // The subscriptions are lost with this instance; connections re-subscribe to the new one.
        foreach (var connection in _chatsOfConnection.Keys) connection.Tell(SubscribeAgain.Instance);
        base.PreRestart(reason, message);
    }

    private void Remove(IActorRef connection, ChatId chatId)
    {
        if (_chatsOfConnection.TryGetValue(connection, out var chats))
        {
            chats.Remove(chatId);
            if (chats.Count == 0)
            {
                _chatsOfConnection.Remove(connection);
                Context.Unwatch(connection);
            }
        }
        if (!_subscriptions.TryGetValue(chatId, out var sub)) return;
        foreach (var (user, connections) in sub.Connections.ToList())
        {
            if (!connections.Remove(connection) || connections.Count > 0) continue;
            sub.Connections.Remove(user);
            if (sub.Accepted.Remove(user) || sub.Requested.Remove(user))
                _chats.Tell(new ChatWatch.UnwatchChat(chatId, user, Self));
        }
        if (sub.Connections.Count > 0) return;
        _subscriptions.Remove(chatId);
        if (sub.Chat is null) return;
        _chatOfActor.Remove(sub.Chat);
        Context.Unwatch(sub.Chat);
    }
}
