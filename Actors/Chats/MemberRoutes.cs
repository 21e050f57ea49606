using Akka.Actor;
using Natter.Actors.Presence;
using Natter.Messages;
using Natter.Messages.Chats;

namespace Natter.Actors.Chats;

/// <summary>
/// Where a direct chat's members are connected, so that its pushes go straight to their connections instead of
/// through each member's PresenceActor (two shard hops and the entity, per member and notice; a network hop more when
/// the entity lives on another node). The first push to a member goes through presence, followed on the same path by
/// <see cref="PresenceCommands.WatchRoutes"/>; the entity answers with the member's connections and tells the chat
/// again at every change. Pushes in between wait for the answer, so no push through presence can still be on its way
/// when pushes start going straight: the member's devices get every notice in the order the chat pushed it.
/// <para>
/// Nothing is lost on the way. A connection the routes do not name yet (its device registered while a change was on
/// its way here, or with the entity that followed a stopped one) may have missed pushes: when an answer adds a
/// connection to those the chat has pushed to before, the chat tells it the head (<see cref="ChatWatch.ChatHead"/>)
/// and it fetches what it lacks. The chat watches the entity that answered: when it stops (a passivation, a handoff,
/// a crash, its node's removal) that member's next push goes through presence and asks the entity that follows.
/// Routes that still name a closed connection cost a dead letter. Remoting may drop a message without anyone
/// knowing, so routes in use are asked for again every <see cref="ChatSettings.RoutesAskAgainAfter"/> while the chat
/// pushes.
/// </para>
/// </summary>
public sealed class MemberRoutes(IActorRef presenceRegion, IActorRef self, IActorContext context, ITimerScheduler timers,
    ChatSettings settings)
{
    /// <summary>Told to the chat when a member's entity has not answered within <see cref="ChatSettings.RoutesAnswerWithin"/>.</summary>
    public sealed record RoutesOverdue(UserId Member);

    /// <summary>Pushes that wait for an answer, at most; beyond it they go through presence.</summary>
    public const int MaxWaiting = 256;

    private sealed class Route
    {
        public IActorRef? Presence; // the entity whose answer is in use; null: none (never asked, asking, or it stopped)
        public IReadOnlyList<IActorRef>? Connections; // where pushes went straight, last; null: never
        public List<ChatNotices.IChatNotice>? Waiting; // asked and unanswered: pushes in the order made
        public bool Overflowed; // more than MaxWaiting waited: pushes go through presence until the answer
        public long AskedAt; // Environment.TickCount64
    }

    private readonly Dictionary<UserId, Route> _routes = new();

    public void Push(UserId member, ChatNotices.IChatNotice notice)
    {
        if (!_routes.TryGetValue(member, out var route)) _routes[member] = route = new Route();
        if (route.Presence is not null)
        {
            foreach (var connection in route.Connections!) connection.Tell(notice, self);
            if (Environment.TickCount64 - route.AskedAt >= (long)settings.RoutesAskAgainAfter.TotalMilliseconds) Ask(member, route);
            return;
        }
        if (route.Waiting is { } waiting)
        {
            if (!route.Overflowed && waiting.Count < MaxWaiting)
            {
                waiting.Add(notice);
                return;
            }
            // Too many for one round trip: from here on through presence, in order, until the answer.
            if (!route.Overflowed) SendWaitingThroughPresence(member, route);
            route.Overflowed = true;
            presenceRegion.Tell(new PresenceCommands.DeliverNotice(member, notice), self);
            return;
        }
        presenceRegion.Tell(new PresenceCommands.DeliverNotice(member, notice), self);
        route.Waiting = [];
        Ask(member, route);
        timers.StartSingleTimer(TimerKey(member), new RoutesOverdue(member), settings.RoutesAnswerWithin);
    }

    /// <summary>
    /// Takes the connections an entity told (the sender, <paramref name="presence"/>) and sends the pushes that
    /// waited for them; returns the connections that may have missed pushes, to be told the chat's head.
    /// </summary>
    public IReadOnlyList<IActorRef> Learn(PresenceCommands.DeviceRoutes routes, IActorRef presence)
    {
        if (!_routes.TryGetValue(routes.UserId, out var route)) _routes[routes.UserId] = route = new Route();
        if (!Equals(route.Presence, presence))
        {
            // Watching an entity that has already stopped delivers its Terminated at once: a late answer heals itself.
            if (route.Presence is not null) context.Unwatch(route.Presence);
            route.Presence = presence;
            context.Watch(presence);
        }
        var before = route.Connections;
        route.Connections = routes.Connections;
        if (route.Waiting is { } waiting)
        {
            route.Waiting = null;
            route.Overflowed = false;
            timers.Cancel(TimerKey(routes.UserId));
            foreach (var notice in waiting)
            foreach (var connection in routes.Connections)
                connection.Tell(notice, self);
        }
        // Until the first answer every push went through presence, in order with the registrations there.
        return before is null ? [] : routes.Connections.Where(c => !before.Contains(c)).ToList();
    }

    /// <summary>An entity that answered has stopped: its member's next push asks the one that follows. False if none did.</summary>
    public bool Forget(IActorRef presence)
    {
        var forgot = false;
        foreach (var route in _routes.Values.Where(r => Equals(r.Presence, presence)))
        {
            route.Presence = null; // the connections stay, to tell which ones an answer adds
            forgot = true;
        }
        return forgot;
    }

    /// <summary>No answer in time: what waited goes through presence, and the next push asks again.</summary>
    public void Overdue(UserId member)
    {
        if (!_routes.TryGetValue(member, out var route) || route.Waiting is null) return;
        SendWaitingThroughPresence(member, route);
        route.Waiting = null;
        route.Overflowed = false;
    }

    private void Ask(UserId member, Route route)
    {
        route.AskedAt = Environment.TickCount64;
        presenceRegion.Tell(new PresenceCommands.WatchRoutes(member, self), self);
    }

    private void SendWaitingThroughPresence(UserId member, Route route)
    {
        foreach (var notice in route.Waiting!) presenceRegion.Tell(new PresenceCommands.DeliverNotice(member, notice), self);
        route.Waiting.Clear();
    }

    private static (string, UserId) TimerKey(UserId member) => ("routes", member);
}
