using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Natter.Messages;
using static Natter.Actors.Presence.PresenceCommands;

namespace Natter.Actors.Presence;

/// <summary>
/// Which devices of one user are online and where their connections live. In memory: connections
/// re-register on every heartbeat, and a device that is not online is served from the chat logs.
/// It passivates itself once no device has been online, and no message has come, for two minutes.
/// </summary>
public sealed class PresenceActor : ReceiveActor
{
    private sealed record Online(string ConnectionId, IActorRef Connection, DateTimeOffset ConnectedAt);

    private sealed class IdleCheck : IDeadLetterSuppression
    {
        public static readonly IdleCheck Instance = new();
    }

    private static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(2);

    private readonly UserId _userId;
    private readonly Dictionary<DeviceId, Online> _online = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private DateTimeOffset? _lastSeen;
    private DateTimeOffset _lastActivity = DateTimeOffset.UtcNow;
    private bool _idleCheckScheduled;

    public PresenceActor(string userId)
    {
        _userId = new UserId(userId);
        ScheduleIdleCheck();

        Receive<DeviceOnline>(OnDeviceOnline);
        Receive<DeviceOffline>(d =>
        {
            if (_online.TryGetValue(d.Device, out var current) && current.ConnectionId == d.ConnectionId)
            {
                Context.Unwatch(current.Connection);
                _online.Remove(d.Device);
            }
            _lastSeen = Max(_lastSeen, d.At);
            if (_online.Count == 0) ScheduleIdleCheck();
        });
        Receive<Terminated>(t =>
        {
            foreach (var (device, online) in _online.Where(kv => kv.Value.Connection.Equals(t.ActorRef)).ToList())
                _online.Remove(device);
            if (_online.Count == 0) ScheduleIdleCheck();
        });
        Receive<DeliverNotice>(d =>
        {
            foreach (var online in _online.Values) online.Connection.Tell(d.Notice);
        });
        Receive<GetPresence>(_ => Sender.Tell(new PresenceStatus(_userId, _online.Keys.Order().ToList(), _lastSeen)));
        Receive<IdleCheck>(_ =>
        {
            _idleCheckScheduled = false;
            if (_online.Count == 0 && DateTimeOffset.UtcNow - _lastActivity >= IdleAfter)
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
            else if (_online.Count == 0)
                ScheduleIdleCheck();
        });
    }

    public static Props PropsFor(string userId) => Props.Create(() => new PresenceActor(userId));

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is not IdleCheck) _lastActivity = DateTimeOffset.UtcNow;
        return base.AroundReceive(receive, message);
    }

    // Only an entity with no device online needs a timer: it stops after IdleAfter without messages.
    private void ScheduleIdleCheck()
    {
        if (_idleCheckScheduled) return;
        _idleCheckScheduled = true;
        Context.System.Scheduler.ScheduleTellOnce(IdleAfter, Self, IdleCheck.Instance, Self);
    }

    private void OnDeviceOnline(DeviceOnline d)
    {
        _lastSeen = Max(_lastSeen, d.At);
        if (_online.TryGetValue(d.Device, out var current))
        {
            if (current.ConnectionId == d.ConnectionId) return;
            if (d.ConnectedAt < current.ConnectedAt)
            {
                // A late refresh from an older connection: it is the one to go, not the current one.
                d.Connection.Tell(new SessionReplaced(_userId, d.Device, d.ConnectionId));
                return;
            }
            // A newer connection of the same device wins; the old one is told to close.
            Context.Unwatch(current.Connection);
            current.Connection.Tell(new SessionReplaced(_userId, d.Device, current.ConnectionId));
            _log.Info("Device {0}/{1} reconnected; closing its previous connection", _userId, d.Device);
        }
        _online[d.Device] = new Online(d.ConnectionId, d.Connection, d.ConnectedAt);
        Context.Watch(d.Connection);
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset b) => a is null || b > a ? b : a;
}
