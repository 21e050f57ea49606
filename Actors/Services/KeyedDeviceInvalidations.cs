using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Natter.Messages.Users;

namespace Natter.Actors.Services;

/// <summary>
/// One per edge process: subscribes to <see cref="KeyedDevicesChanged.Topic"/> and drops the changed user's entry from
/// the process's <see cref="KeyedDeviceCache"/>. Until the subscription is acknowledged the cache keeps nothing at all,
/// since a change published meanwhile would not reach it.
/// </summary>
public sealed class KeyedDeviceInvalidations : UntypedActor
{
    private readonly KeyedDeviceCache _cache;
    private readonly IActorRef _mediator;

    public KeyedDeviceInvalidations(KeyedDeviceCache cache, IActorRef mediator)
    {
        _cache = cache;
        _mediator = mediator;
    }

    public static Props PropsFor(KeyedDeviceCache cache, IActorRef mediator) =>
        Props.Create(() => new KeyedDeviceInvalidations(cache, mediator));

    protected override void PreStart() => _mediator.Tell(new Subscribe(KeyedDevicesChanged.Topic, Self));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case KeyedDevicesChanged changed: _cache.Changed(changed.UserId); break;
            case SubscribeAck: _cache.Listening = true; break;
            default: Unhandled(message); break;
        }
    }

    protected override void PostStop()
    {
        // Nothing tells the cache of changes any more: it stops keeping answers.
        _cache.Listening = false;
        _cache.Clear();
    }
}
