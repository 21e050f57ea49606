using Akka.Actor;
using Akka.Hosting;
using Akka.TestKit.Xunit2;
using Microsoft.Extensions.DependencyInjection;
using Natter.Actors.Hosting;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>
/// <see cref="CompactMailbox"/> as the hosts configure it (HOCON/mailboxes.hocon): an actor on it gets every
/// message of many concurrent senders, each sender's in order, including after a burst that grew its queue; and
/// its variant for stashing actors (<see cref="CompactDequeMailbox"/>) hands a stash back ahead of what waits.
/// </summary>
public sealed class CompactMailboxSpecs() : TestKit(HostConfig(), "compact-mailbox-specs")
{
    private static Akka.Configuration.Config HostConfig() =>
        new AkkaConfigurationBuilder(new ServiceCollection(), "compact-mailbox-specs").WithNatterHocon().Configuration.Value;

    [Fact]
    public async Task Every_message_of_many_concurrent_senders_arrives_in_each_senders_order()
    {
        const int senders = 8, perSender = 5_000;
        var counter = Sys.ActorOf(CompactMailbox.Apply(Props.Create(() => new OrderChecker(TestActor))));

        // A burst far above the kept capacity, from several threads at once, then a second one after it emptied.
        for (var round = 0; round < 2; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, senders).Select(s => Task.Run(() =>
            {
                for (var n = 0; n < perSender; n++) counter.Tell(new Numbered(s, round * perSender + n));
            })));
            counter.Tell(Report.Instance);
            var report = ExpectMsg<Counted>(TimeSpan.FromSeconds(30));
            Assert.Equal((round + 1) * senders * perSender, report.Received);
            Assert.Equal(0, report.OutOfOrder);
        }
    }

    [Fact]
    public void A_queue_hands_its_messages_out_in_order_and_its_leftovers_to_dead_letters_on_clean_up()
    {
        var queue = new CompactMessageQueue();
        for (var n = 0; n < 100; n++) queue.Enqueue(TestActor, new Envelope(n, TestActor));
        for (var n = 0; n < 60; n++)
        {
            Assert.True(queue.TryDequeue(out var envelope));
            Assert.Equal(n, envelope.Message);
        }
        Assert.Equal(40, queue.Count);

        var deadLetters = new CompactMessageQueue();
        queue.CleanUp(TestActor, deadLetters);
        Assert.False(queue.HasMessages);
        Assert.False(queue.TryDequeue(out _));
        for (var n = 60; n < 100; n++)
        {
            Assert.True(deadLetters.TryDequeue(out var envelope));
            Assert.Equal(n, envelope.Message);
        }
    }

    [Fact]
    public void The_hosts_define_the_mailbox()
    {
        Assert.Equal(typeof(CompactMailbox), Type.GetType(Sys.Settings.Config.GetString($"{CompactMailbox.ConfigPath}.mailbox-type")));
        Assert.Equal(typeof(CompactDequeMailbox), Type.GetType(Sys.Settings.Config.GetString($"{CompactDequeMailbox.ConfigPath}.mailbox-type")));
    }

    [Fact]
    public void Apply_puts_every_actor_on_the_mailbox_with_one_shared_deployment_and_keeps_its_arguments()
    {
        var first = CompactMailbox.Apply(Props.Create(() => new OrderChecker(TestActor)));
        var second = CompactMailbox.Apply(Props.Create(() => new OrderChecker(TestActor)));
        var stashing = CompactDequeMailbox.Apply(Props.Create(() => new Stasher(TestActor)));

        Assert.Same(first.Deploy, second.Deploy);
        Assert.Equal(CompactMailbox.ConfigPath, first.Mailbox);
        Assert.Equal(CompactDequeMailbox.ConfigPath, stashing.Mailbox);
        Assert.Equal([TestActor], first.Arguments);
        Assert.Equal(typeof(OrderChecker), first.Type);
        // Anything a rebuilt Props would lose is refused rather than dropped.
        Assert.Throws<ArgumentException>(() => CompactMailbox.Apply(Props.Create(() => new OrderChecker(TestActor)).WithDispatcher("other")));
        Assert.Throws<ArgumentException>(() =>
            CompactDequeMailbox.Apply(Props.Create(() => new Stasher(TestActor)).WithSupervisorStrategy(SupervisorStrategy.StoppingStrategy)));
    }

    [Fact]
    public void A_stashing_actor_on_the_deque_variant_gets_its_stash_back_first_and_in_order()
    {
        var stasher = Sys.ActorOf(CompactDequeMailbox.Apply(Props.Create(() => new Stasher(TestActor))));

        for (var n = 0; n < 50; n++) stasher.Tell(n);
        stasher.Tell(Report.Instance); // unstashes the 50 ahead of what comes after it
        for (var n = 50; n < 60; n++) stasher.Tell(n);

        for (var n = 0; n < 60; n++) ExpectMsg(n);
    }

    private sealed record Numbered(int Sender, int N);

    private sealed record Counted(int Received, int OutOfOrder);

    private sealed class Report
    {
        public static readonly Report Instance = new();
    }

    /// <summary>Stashes numbers until the first <see cref="Report"/>, then echoes every number it is given.</summary>
    private sealed class Stasher(IActorRef echoTo) : UntypedActor, IWithUnboundedStash
    {
        private bool _open;

        public IStash Stash { get; set; } = null!;

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case int when !_open: Stash.Stash(); break;
                case int n: echoTo.Tell(n); break;
                case Report:
                    _open = true;
                    Stash.UnstashAll();
                    break;
            }
        }
    }

    private sealed class OrderChecker(IActorRef reporter) : UntypedActor
    {
        private readonly Dictionary<int, int> _last = new();
        private int _received;
        private int _outOfOrder;

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Numbered m:
                    _received++;
                    if (_last.TryGetValue(m.Sender, out var last) && m.N != last + 1) _outOfOrder++;
                    _last[m.Sender] = m.N;
                    break;
                case Report:
                    reporter.Tell(new Counted(_received, _outOfOrder));
                    break;
            }
        }
    }
}
