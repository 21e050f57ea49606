using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Natter.Actors.Hosting;

/// <summary>
/// <see cref="CompactMailbox"/> for actors that stash, such as persistent actors (a stash puts messages back at the
/// front of the queue). Akka's own deque mailbox wraps the default ConcurrentQueue and so keeps its 1 KB segment
/// per actor; this one wraps the compact queue instead. The front is a stack only the actor itself touches, as in
/// Akka's wrapper. Selected with <see cref="Apply"/>; the hosts define it in
/// HOCON/mailboxes.hocon.
/// </summary>
public sealed class CompactDequeMailbox : MailboxType, IProducesMessageQueue<CompactDequeMessageQueue>
{
    public const string ConfigPath = "natter.compact-deque-mailbox";

    private static readonly Deploy SharedDeploy = MailboxProps.SharedDeployFor(ConfigPath);

    public CompactDequeMailbox(Settings settings, Config config) : base(settings, config)
    {
    }

    /// <summary>
    /// <paramref name="props"/> on this mailbox, sharing one deployment with every other actor on it (as
    /// <see cref="CompactMailbox.Apply"/>).
    /// </summary>
    public static Props Apply(Props props) => MailboxProps.OnSharedDeploy(props, SharedDeploy);

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CompactDequeMessageQueue();
}

public sealed class CompactDequeMessageQueue() : DequeWrapperMessageQueue(new CompactMessageQueue()), IUnboundedDequeBasedMessageQueueSemantics;
