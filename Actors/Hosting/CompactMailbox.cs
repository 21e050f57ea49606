using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Natter.Actors.Hosting;

/// <summary>
/// An unbounded mailbox for actors that are many and mostly idle, such as one ConnectionActor per open socket.
/// Akka's default mailbox is a ConcurrentQueue whose first segment (32 slots, about 1 KB) is allocated with
/// the actor and kept for its life; this one starts with no storage, grows with what is waiting, and gives back
/// a grown buffer once it has emptied. A lock guards it: each actor's queue has many writers but one reader,
/// and its critical sections are a few instructions long.
/// Selected with <see cref="Apply"/> (or <c>Props.WithMailbox(CompactMailbox.ConfigPath)</c>); the hosts define it in
/// HOCON/mailboxes.hocon.
/// </summary>
public sealed class CompactMailbox : MailboxType, IProducesMessageQueue<CompactMessageQueue>
{
    public const string ConfigPath = "natter.compact-mailbox";

    private static readonly Deploy SharedDeploy = MailboxProps.SharedDeployFor(ConfigPath);

    public CompactMailbox(Settings settings, Config config) : base(settings, config)
    {
    }

    /// <summary><paramref name="props"/> on this mailbox, sharing one deployment with every other actor on it.</summary>
    public static Props Apply(Props props) => MailboxProps.OnSharedDeploy(props, SharedDeploy);

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CompactMessageQueue();
}

public sealed class CompactMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    // Above this many waiting messages the buffer counts as grown (over 256 bytes), and is trimmed when the
    // queue empties; below it, the buffer is kept for the next burst rather than allocated again.
    private const int KeptCapacity = 16;

    // The queue is its own lock (a Monitor in its header, nothing allocated uncontended): a Lock object would
    // be 40 more bytes for every idle actor on this mailbox.
    private readonly Queue<Envelope> _queue = new();
    private bool _grown;

    public bool HasMessages => Count > 0;

    public int Count
    {
        get
        {
            lock (_queue) return _queue.Count;
        }
    }

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (_queue)
        {
            _queue.Enqueue(envelope);
            if (_queue.Count > KeptCapacity) _grown = true;
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (_queue)
        {
            if (!_queue.TryDequeue(out envelope)) return false;
            if (_queue.Count == 0 && _grown)
            {
                _queue.TrimExcess();
                _grown = false;
            }
            return true;
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }
}
