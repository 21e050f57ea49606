using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Natter.Messages;
using Natter.Messages.Users;
using static Natter.Actors.Presence.PresenceCommands;

namespace Natter.Actors.Presence;

/// <summary>
/// Which devices of one user are online and where their connections live. In memory: connections
/// re-register on every heartbeat, and a device that is not online is served from the chat logs.
/// When the user comes online or their last device goes, the time is recorded in their UserActor (so last
/// seen survives restarts) and the change is pushed to their contacts, as their privacy setting allows.
/// It passivates itself once no device has been online, and no message has come, for two minutes.
/// It watches no connection: a connection tells it when it closes, a process that leaves the cluster is announced
/// (<see cref="MemberDeparted"/>), and a device whose refreshes stop for <see cref="MissedRefreshes"/> heartbeats
/// (a lost goodbye) is taken as gone. A remote death watch in each direction cost about 1 KB on both sides of
/// every connection. As it stops it tells its connections, which register again with the entity that follows.
/// Direct chats that asked (<see cref="WatchRoutes"/>) are told the connections now and at every change, and push
/// to them without coming through here; each side watches the other, so a chat whose entity stops asks the one that
/// follows, and an entity forgets a chat that stopped. A crash stops it rather than restarting it in place, since
/// those chats would not notice a restart (its reference stays) and keep routes no one updates.
/// </summary>
public sealed class PresenceActor : UntypedActor
{
    private sealed class Online(string connectionId, IActorRef connection, DateTimeOffset connectedAt, int refreshSeconds)
    {
        public string ConnectionId { get; } = connectionId;
        public IActorRef Connection { get; } = connection;
        public DateTimeOffset ConnectedAt { get; } = connectedAt;
        public int RefreshSeconds { get; set; } = refreshSeconds;
        public long RefreshedAt { get; set; } = Environment.TickCount64; // this node's clock, not the edge's
    }

    private sealed record AnnounceWith(UserReplies.Profile Profile);

    private sealed record ViewWith(UserReplies.Profile Profile, UserId Viewer, IActorRef ReplyTo);

    /// <summary>The entity's one timer: with devices online it drops the silent ones, without it passivates when idle.</summary>
    private sealed class Sweep : IDeadLetterSuppression
    {
        public static readonly Sweep Instance = new();
    }

    /// <summary>Heartbeats a device may miss before its entity takes it as gone.</summary>
    public const int MissedRefreshes = 3;

    private const long LateSweep = 5_000; // ms

    private static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    private readonly UserId _userId;
    private readonly IActorRef _users;
    private readonly IActorRef _presence;
    private readonly Dictionary<DeviceId, Online> _online = new();
    private Dictionary<IActorRef, long>? _routeWatchers; // direct chats told of every change, with their latest ask
    private readonly long _incarnation = Random.Shared.NextInt64(1, long.MaxValue);
    private ILoggingAdapter? _logger; // created on first use: most entities never log
    private DateTimeOffset? _lastSeen;
    private DateTimeOffset _lastActivity = DateTimeOffset.UtcNow;
    private long _sweepDue; // Environment.TickCount64 of the pending sweep; 0: none

    private ILoggingAdapter Log => _logger ??= Context.GetLogger();

    public PresenceActor(string userId, IActorRef users, IActorRef presence)
    {
        _userId = new UserId(userId);
        _users = users;
        _presence = presence;
        ScheduleSweep();
    }

    // One switch rather than ReceiveActor's handlers, which are delegates built per instance: there is one
    // of these entities for every user online.
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case DeviceOnline d: OnDeviceOnline(d); break;
            case DeviceOffline d:
                if (_online.TryGetValue(d.Device, out var current) && current.ConnectionId == d.ConnectionId)
                {
                    _online.Remove(d.Device);
                    RoutesChanged();
                }
                _lastSeen = Max(_lastSeen, d.At);
                if (_online.Count == 0) WentOffline();
                break;
            case MemberDeparted m:
                RemoveWhere(online => online.Connection.Path.Address.Equals(m.Address), quiet: true);
                break;
            case DeliverNotice d:
                foreach (var online in _online.Values) online.Connection.Tell(d.Notice);
                break;
            case WatchRoutes w:
                var watchers = _routeWatchers ??= new Dictionary<IActorRef, long>();
                if (!watchers.ContainsKey(w.Chat)) Context.Watch(w.Chat);
                watchers[w.Chat] = w.Ask;
                w.Chat.Tell(new DeviceRoutes(_userId, Connections(), w.Ask));
                break;
            case Terminated t:
                _routeWatchers?.Remove(t.ActorRef);
                break;
            case DeliverDeviceNotice d:
                foreach (var (device, online) in _online)
                    if (d.Device is null || d.Device == device) online.Connection.Tell(d.Notice);
                break;
            case DeviceRevoked r:
                if (_online.TryGetValue(r.Device, out var revoked)) revoked.Connection.Tell(r);
                break;
            case DeliverPresence d:
                foreach (var online in _online.Values) online.Connection.Tell(d.Change);
                break;
            case GetPresence:
                Sender.Tell(new PresenceStatus(_userId, _online.Keys.Order().ToList(), _lastSeen));
                break;
            case ViewPresence v:
                var replyTo = Sender;
                _users.Ask<UserReplies.Profile>(new UserQueries.GetProfile(_userId), AskTimeout)
                    .PipeTo(Self, success: p => new ViewWith(p, v.Viewer, replyTo),
                        failure: _ => new ViewWith(HiddenProfile(), v.Viewer, replyTo));
                break;
            case ViewWith v: v.ReplyTo.Tell(ViewFor(v.Profile, v.Viewer)); break;
            case AnnounceWith a: Announce(a.Profile); break;
            case Status.Failure f: Log.Warning("Presence of {0}: profile unavailable: {1}", _userId, f.Cause.Message); break;
            case Sweep:
                var now = Environment.TickCount64;
                if (now < _sweepDue - 100) break; // superseded by an earlier one, which rescheduled
                // A sweep that comes late (this node stalled: a long pause, a backed-up mailbox) may be ahead of
                // refreshes that are waiting behind it: it drops nothing this time.
                var onTime = now - _sweepDue < LateSweep;
                _sweepDue = 0;
                if (onTime)
                    RemoveWhere(online => now - online.RefreshedAt > online.RefreshSeconds * 1000L * MissedRefreshes, quiet: false);
                if (_online.Count == 0 && DateTimeOffset.UtcNow - _lastActivity >= IdleAfter)
                    Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                else
                    ScheduleSweep();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    public static Props PropsFor(string userId, IActorRef users, IActorRef presence) =>
        Props.Create(() => new PresenceActor(userId, users, presence));

    protected override bool AroundReceive(Receive receive, object message)
    {
        // A timer or another member's departure is not a sign of use: neither keeps an idle entity alive.
        if (message is not (Sweep or MemberDeparted or Terminated)) _lastActivity = DateTimeOffset.UtcNow;
        return base.AroundReceive(receive, message);
    }

    /// <summary>
    /// A crash: stop rather than go on with an empty instance under the same reference (see the class summary). The
    /// failed instance's <see cref="PostStop"/> has told its connections, which register with the entity that follows.
    /// </summary>
    protected override void PostRestart(Exception reason)
    {
        Log.Error(reason, "Presence of {0} failed; stopping it so that it starts afresh", _userId);
        Context.Stop(Self);
    }

    /// <summary>A handoff, a passivation or a restart: the connections register again with the entity that follows.</summary>
    protected override void PostStop()
    {
        foreach (var (device, online) in _online)
            online.Connection.Tell(new PresenceStopped(_userId, device, _incarnation));
    }

    /// <summary>
    /// One timer at a time: with devices online, at their refresh period (the silent ones go); with none, after
    /// IdleAfter (the entity stops if no message came meanwhile).
    /// </summary>
    private void ScheduleSweep()
    {
        var delay = _online.Count == 0 ? IdleAfter : TimeSpan.FromSeconds(_online.Values.Max(o => o.RefreshSeconds));
        var due = Environment.TickCount64 + (long)delay.TotalMilliseconds;
        if (_sweepDue != 0 && _sweepDue <= due) return; // the pending one comes soon enough
        _sweepDue = due;
        Context.System.Scheduler.ScheduleTellOnce(delay, Self, Sweep.Instance, Self);
    }

    /// <summary>
    /// Drops the devices whose connections are gone; if that was the last, the user went offline now. A departed
    /// member is logged once by <see cref="MemberDepartures"/>, not by each of its users' entities.
    /// </summary>
    private void RemoveWhere(Func<Online, bool> gone, bool quiet)
    {
        if (_online.Count == 0) return;
        List<DeviceId>? goneDevices = null;
        foreach (var (device, online) in _online)
            if (gone(online)) (goneDevices ??= []).Add(device);
        if (goneDevices is null) return;
        foreach (var device in goneDevices) _online.Remove(device);
        RoutesChanged();
        if (!quiet) Log.Info("Presence of {0}: devices {1} went silent without a goodbye", _userId, string.Join(", ", goneDevices));
        if (_online.Count > 0) return;
        _lastSeen = Max(_lastSeen, DateTimeOffset.UtcNow);
        WentOffline();
    }

    private void OnDeviceOnline(DeviceOnline d)
    {
        var wasOffline = _online.Count == 0;
        _lastSeen = Max(_lastSeen, d.At);
        if (_online.TryGetValue(d.Device, out var current))
        {
            if (current.ConnectionId == d.ConnectionId)
            {
                current.RefreshedAt = Environment.TickCount64;
                current.RefreshSeconds = Math.Max(1, d.RefreshSeconds);
                if (!d.Registered) d.Connection.Tell(new PresenceRegistered(_userId, d.Device, _incarnation));
                return;
            }
            if (d.ConnectedAt < current.ConnectedAt)
            {
                // A late refresh from an older connection: it is the one to go, not the current one.
                d.Connection.Tell(new SessionReplaced(_userId, d.Device, d.ConnectionId));
                return;
            }
            // A newer connection of the same device wins; the old one is told to close.
            current.Connection.Tell(new SessionReplaced(_userId, d.Device, current.ConnectionId));
            Log.Info("Device {0}/{1} reconnected; closing its previous connection", _userId, d.Device);
        }
        _online[d.Device] = new Online(d.ConnectionId, d.Connection, d.ConnectedAt, Math.Max(1, d.RefreshSeconds));
        RoutesChanged();
        d.Connection.Tell(new PresenceRegistered(_userId, d.Device, _incarnation, Fresh: true));
        if (wasOffline) Changed(d.At);
        ScheduleSweep();
    }

    private void RoutesChanged()
    {
        if (_routeWatchers is not { Count: > 0 } watchers) return;
        var connections = Connections();
        foreach (var (chat, ask) in watchers) chat.Tell(new DeviceRoutes(_userId, connections, ask));
    }

    private List<IActorRef> Connections() => _online.Values.Select(o => o.Connection).ToList();

    private void WentOffline()
    {
        ScheduleSweep();
        Changed(_lastSeen ?? DateTimeOffset.UtcNow);
    }

    /// <summary>Records the time (last seen survives restarts) and tells the contacts, with the profile in hand.</summary>
    private void Changed(DateTimeOffset at)
    {
        // The account answers the record with its profile: one round trip. No account: nobody to tell.
        _users.Ask<object>(new UserCommands.RecordLastSeen(_userId, at), AskTimeout)
            .PipeTo(Self, success: reply => new AnnounceWith(reply as UserReplies.Profile ?? HiddenProfile()));
    }

    /// <summary>Pushes the current state (not the one that triggered the ask), so a quick on/off ends right.</summary>
    private void Announce(UserReplies.Profile profile)
    {
        if (profile.Settings.LastSeen == Visibility.Nobody) return;
        var change = new PresenceChanged(_userId, _online.Count > 0, _online.Count > 0 ? null : _lastSeen);
        foreach (var contact in profile.Contacts) _presence.Tell(new DeliverPresence(contact, change));
    }

    private PresenceView ViewFor(UserReplies.Profile profile, UserId viewer)
    {
        var visible = viewer == _userId || profile.Settings.LastSeen switch
        {
            Visibility.Everyone => true,
            Visibility.Contacts => profile.Contacts.Contains(viewer),
            _ => false,
        };
        if (!visible || !profile.Exists) return new PresenceView(_userId, false, false, null);
        var online = _online.Count > 0;
        var lastSeen = profile.LastSeen is { } stored ? Max(_lastSeen, stored) : _lastSeen;
        return new PresenceView(_userId, true, online, online ? null : lastSeen);
    }

    private UserReplies.Profile HiddenProfile() =>
        new(_userId, false, new UserSettings(LastSeen: Visibility.Nobody), [], [], null, []);

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset b) => a is null || b > a ? b : a;
}
