using Akka.Actor;
using Natter.Actors.Presence;
using Natter.Messages;
using Natter.Messages.Chats;

namespace Natter.Actors.Chats;

/// <summary>
/// Where a direct chat's members are connected, so that its pushes go straight to their connections instead of
/// through each member's PresenceActor (two shard hops and the entity, per member and notice; a network hop more when
/// the entity lives on another node).
/// <para>
/// The first push to a member goes through presence, followed on the same path by
/// <see cref="PresenceCommands.WatchRoutes"/>; the entity answers with the member's connections and tells the chat
/// again at every change. Pushes in between wait for the answer to that ask (each ask is numbered, and only the answer
/// to the latest counts), so the entity has sent on every push that went through it when pushes start going straight:
/// with the chat and the entity on one node, the devices get every notice, typing and location included, in the order
/// the chat pushed it (across nodes the two paths are different links). Too many waiting, or no answer in time: they
/// go through presence and the routes are asked for again behind them.
/// </para>
/// <para>
/// Once known, pushes always go straight to the last connections learned. A connection that an answer or change adds
/// to them may have missed pushes (its device registered while the change was on its way, or with the entity that
/// followed a stopped one), so it is told the chat's head (<see cref="ChatWatch.ChatHead"/>) and fetches what it
/// lacks. The chat watches the entity that answered: when it stops (a passivation, a handoff, a crash, its node's
/// removal) the next push asks the entity that follows, and pushes keep going to the connections, which live on the
/// edges, also to those the successor does not name yet (their devices are registering with it). Routes that still
/// name a closed connection cost a dead letter. Remoting may drop a message without anyone knowing, so a chat that
/// pushes asks again after <see cref="ChatSettings.RoutesAskAgainAfter"/>, and again after
/// <see cref="ChatSettings.RoutesAnswerWithin"/> an ask that got no answer.
/// </para>
/// </summary>
public sealed class MemberRoutes(IActorRef presenceRegion, IActorRef self, IActorContext context, ITimerScheduler timers,
    ChatSettings settings)
{
    /// <summary>Told to the chat when ask number <paramref name="Ask"/> has not been answered in time.</summary>
    public sealed record RoutesOverdue(UserId Member, long Ask);

    /// <summary>Pushes that wait for the first answer, at most; with one more they go through presence.</summary>
    public const int MaxWaiting = 256;

    private sealed class Route
    {
        public IActorRef? Presence; // the entity whose answers are followed (watched); null: none yet, or it stopped
        public IReadOnlyList<IActorRef>? Connections; // where pushes go straight; null until the first answer
        public List<ChatNotices.IChatNotice>? Waiting; // before the first answer: pushes held for it, in order
        public long Ask; // number of the latest WatchRoutes sent
        public long Taken; // the ask number of the last answer taken
        public long AskedAt; // Environment.TickCount64
        // After the followed entity stopped: connections pushed to before that its successor has not named yet (their
        // devices register again within seconds). Pushes go on to them until it does, or until CarriedUntil.
        public List<IActorRef>? Carried;
        public long CarriedUntil;
    }

    private readonly Dictionary<UserId, Route> _routes = new();

    public void Push(UserId member, ChatNotices.IChatNotice notice)
    {
        if (!_routes.TryGetValue(member, out var route)) _routes[member] = route = new Route();
        if (route.Connections is { } connections)
        {
            foreach (var connection in connections) connection.Tell(notice, self);
            foreach (var connection in CarriedOf(route)) connection.Tell(notice, self);
            if (AskAgainDue(route)) Ask(member, route);
            return;
        }
        if (route.Waiting is { } waiting)
        {
            waiting.Add(notice);
            if (waiting.Count > MaxWaiting) ThroughPresenceAndAskAgain(member, route);
            return;
        }
        presenceRegion.Tell(new PresenceCommands.DeliverNotice(member, notice), self);
        route.Waiting = [];
        Ask(member, route);
    }

    /// <summary>
    /// Takes the connections an entity told (the sender, <paramref name="presence"/>) and sends the pushes that waited
    /// for them; returns the connections that may have missed pushes, to be told the chat's head.
    /// </summary>
    public IReadOnlyList<IActorRef> Learn(PresenceCommands.DeviceRoutes routes, IActorRef presence)
    {
        if (!_routes.TryGetValue(routes.UserId, out var route)) return [];
        var straight = route.Connections is not null;
        var followed = route.Presence is not null && Equals(route.Presence, presence);
        // Before the first answer only the latest ask's may switch pushes to the straight path (see the summary).
        // After it, any answer newer than the last one taken, or a change from the entity followed, is news.
        var take = straight
            ? routes.Ask > route.Taken || routes.Ask == route.Taken && followed
            : routes.Ask == route.Ask;
        if (!take) return [];
        route.Taken = Math.Max(route.Taken, routes.Ask);
        // Pushes so far went to these: a connection among them needs no head.
        IReadOnlyList<IActorRef>? before = straight ? [.. route.Connections!, .. CarriedOf(route)] : null;
        if (straight && !followed)
        {
            // The successor of a stopped entity: devices it does not know yet are registering with it right now.
            route.Carried = before!.Where(c => !routes.Connections.Contains(c)).ToList();
            route.CarriedUntil = Environment.TickCount64 + (long)settings.RoutesAskAgainAfter.TotalMilliseconds;
        }
        else
        {
            route.Carried?.RemoveAll(c => routes.Connections.Contains(c));
        }
        if (!followed) Follow(route, presence);
        route.Connections = routes.Connections;
        if (route.Waiting is { } waiting)
        {
            route.Waiting = null;
            timers.Cancel(TimerKey(routes.UserId));
            foreach (var notice in waiting)
            foreach (var connection in routes.Connections)
                connection.Tell(notice, self);
        }
        // Until the first answer every push went through presence, in order with the registrations there.
        return before is null ? [] : routes.Connections.Where(c => !before.Contains(c)).ToList();
    }

    /// <summary>An entity that answered has stopped: the next push asks the one that follows. False if none did.</summary>
    public bool Forget(IActorRef presence)
    {
        var forgot = false;
        foreach (var route in _routes.Values.Where(r => Equals(r.Presence, presence)))
        {
            route.Presence = null; // the connections stay: pushes go on to them, and they tell which ones an answer adds
            forgot = true;
        }
        return forgot;
    }

    /// <summary>
    /// The first answer did not come in time: what waited goes through presence, and the ask is made again. With
    /// nothing waiting the chat stops asking; its next push goes through presence and asks.
    /// </summary>
    public void Overdue(RoutesOverdue overdue)
    {
        if (!_routes.TryGetValue(overdue.Member, out var route) || route.Waiting is not { } waiting || overdue.Ask != route.Ask) return;
        if (waiting.Count == 0) route.Waiting = null;
        else ThroughPresenceAndAskAgain(overdue.Member, route);
    }

    /// <summary>The chat is stopping: pushes still waiting for an answer go through presence rather than nowhere.</summary>
    public void SendWaiting()
    {
        foreach (var (member, route) in _routes)
        {
            foreach (var notice in route.Waiting ?? []) presenceRegion.Tell(new PresenceCommands.DeliverNotice(member, notice), self);
            route.Waiting = null;
        }
    }

    private IReadOnlyList<IActorRef> CarriedOf(Route route)
    {
        if (route.Carried is null) return [];
        if (route.Carried.Count > 0 && Environment.TickCount64 < route.CarriedUntil) return route.Carried;
        route.Carried = null;
        return [];
    }

    private bool AskAgainDue(Route route)
    {
        var since = Environment.TickCount64 - route.AskedAt;
        // Answers never carry a number above the latest ask: the last one taken is the latest's exactly when it came.
        if (route.Taken != route.Ask) return since >= (long)settings.RoutesAnswerWithin.TotalMilliseconds;
        return route.Presence is null || since >= (long)settings.RoutesAskAgainAfter.TotalMilliseconds;
    }

    private void ThroughPresenceAndAskAgain(UserId member, Route route)
    {
        foreach (var notice in route.Waiting!) presenceRegion.Tell(new PresenceCommands.DeliverNotice(member, notice), self);
        route.Waiting.Clear();
        Ask(member, route);
    }

    private void Ask(UserId member, Route route)
    {
        route.Ask++;
        route.AskedAt = Environment.TickCount64;
        presenceRegion.Tell(new PresenceCommands.WatchRoutes(member, self, route.Ask), self);
        if (route.Waiting is not null)
            timers.StartSingleTimer(TimerKey(member), new RoutesOverdue(member, route.Ask), settings.RoutesAnswerWithin);
    }

    private void Follow(Route route, IActorRef presence)
    {
        // Another member's route may follow the same reference (a test's single stand-in): its watch stays.
        if (route.Presence is { } old && !_routes.Values.Any(r => r != route && Equals(r.Presence, old))) context.Unwatch(old);
        route.Presence = presence;
        // Watching an entity that has already stopped delivers its Terminated at once: a late answer heals itself.
        context.Watch(presence);
    }

    private static (string, UserId) TimerKey(UserId member) => ("routes", member);
}
