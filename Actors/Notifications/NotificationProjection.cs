using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Natter.Actors.Presence;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Notifications;
using static Natter.Messages.Chats.ChatEvents;

namespace Natter.Actors.Notifications;

/// <summary>
/// The cluster's one reader of stored messages for notifications (a cluster singleton on the node role).
/// An Akka.Streams graph reads the journal in order by its global offset (AllEvents: a range read on the
/// primary key; tagging messages instead made the SQL journal insert rows one by one), keeps stored
/// messages, finds each message's recipients with no device online (reusing a recipient's answer for a
/// moment: RecentPresence), publishes requests to the sink in batches (retrying with backoff as long as it
/// takes), and only then persists the offset. Kafka being down delays notifications; the journal
/// keeps them, and backpressure stops reading until the sink takes more. After a crash, reading resumes
/// from the last persisted offset: requests may be published twice, never lost (the dispatcher dedupes).
/// </summary>
public sealed class NotificationProjection : ReceivePersistentActor
{
    public sealed record OffsetStored(long Offset) : INatterEvent;

    private sealed record OffsetReached(long Offset);

    /// <param name="IsMessage">A stored message: only batches with one move the persisted offset (else the
    /// projection's own offset events, which this stream reads too, would make it write forever).</param>
    private sealed record Resolved(long Offset, bool IsMessage, IReadOnlyList<NotificationRequest> Requests);


    private const int SnapshotEvery = 100;
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    private readonly IActorRef _chats;
    private readonly IActorRef _presence;
    private readonly INotificationSink _sink;
    private readonly NotificationOptions _options;
    private readonly string _readJournalId;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RecentPresence _recentPresence;
    private long _offset;
    private long _resumeFrom; // read by the stream when it (re)starts
    private UniqueKillSwitch? _stream;

    public NotificationProjection(IActorRef chats, IActorRef presence, INotificationSink sink, NotificationOptions options,
        string readJournalId)
    {
        _chats = chats;
        _presence = presence;
        _sink = sink;
        _options = options;
        _readJournalId = readJournalId;
        _recentPresence = new RecentPresence(options.PresenceReuse, TimeProvider.System);

        Recover<SnapshotOffer>(s =>
        {
            if (s.Snapshot is OffsetStored o) _offset = o.Offset;
        });
        Recover<OffsetStored>(o => _offset = Math.Max(_offset, o.Offset));
        Recover<RecoveryCompleted>(_ => StartStream());

        Command<OffsetReached>(o =>
        {
            if (o.Offset <= _offset) return;
            Persist(new OffsetStored(o.Offset), stored =>
            {
                _offset = stored.Offset;
                Interlocked.Exchange(ref _resumeFrom, _offset);
                if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(stored);
            });
        });
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(_ => { });
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning(f.Cause, "Deleting old offsets failed; recovery replays more"));
        Command<Status.Failure>(f => _log.Error(f.Cause, "Notification stream stopped"));
    }

    public override string PersistenceId => "notification-projection";

    public static Props PropsFor(IActorRef chats, IActorRef presence, INotificationSink sink, NotificationOptions options,
        string readJournalId = "akka.persistence.query.journal.sql") =>
        Props.Create(() => new NotificationProjection(chats, presence, sink, options, readJournalId));

    private void StartStream()
    {
        _resumeFrom = _offset;
        var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<IAllEventsQuery>(_readJournalId);
        var self = Self;
        var restart = RestartSettings.Create(TimeSpan.FromSeconds(1), _options.MaxBackoff, 0.2);
        _stream = RestartSource.OnFailuresWithBackoff(() => journal
                    .AllEvents(Offset.Sequence(Interlocked.Read(ref _resumeFrom)))
                    // In order (SelectAsync keeps it), a few messages resolved at once; other events pass as empty.
                    .SelectAsync(4, ResolveAsync)
                    .GroupedWithin(_options.BatchSize, TimeSpan.FromMilliseconds(50))
                    .SelectAsync(1, PublishAsync),
                restart)
            .ViaMaterialized(KillSwitches.Single<long>(), Keep.Right)
            .ToMaterialized(Sink.ForEach<long>(offset => self.Tell(new OffsetReached(offset))), Keep.Left)
            .Run(Context.Materializer());
    }

    protected override void PostStop()
    {
        _stream?.Shutdown();
        base.PostStop();
    }

    private static readonly TimeSpan TimeoutRetryLimit = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Resolves with retries. Timeouts are what a failover looks like (a node lost, shards moving, for tens
    /// of seconds): they are retried for up to <see cref="TimeoutRetryLimit"/>. Any other failure gets three
    /// attempts. Then the message is logged and passed over: one message whose chat never answers (its
    /// recovery keeps failing, say) must not hold back everyone's notifications.
    /// </summary>
    private async Task<Resolved> ResolveAsync(EventEnvelope envelope)
    {
        var started = DateTimeOffset.UtcNow;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ResolveOnceAsync(envelope);
            }
            catch (AskTimeoutException e) when (DateTimeOffset.UtcNow - started < TimeoutRetryLimit)
            {
                _log.Warning("Resolving recipients at offset {0} timed out ({1}); the cluster may be failing over, retrying",
                    ((Sequence)envelope.Offset).Value, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 10)));
            }
            catch (Exception e) when (attempt < 3)
            {
                _log.Warning("Resolving recipients at offset {0} failed ({1}); retrying", ((Sequence)envelope.Offset).Value, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(attempt));
            }
            catch (Exception e)
            {
                _log.Error(e, "Giving up notifications for the message at offset {0}", ((Sequence)envelope.Offset).Value);
                return new Resolved(((Sequence)envelope.Offset).Value, true, []);
            }
        }
    }

    /// <summary>The recipients of one stored message who have no device online right now.</summary>
    private async Task<Resolved> ResolveOnceAsync(EventEnvelope envelope)
    {
        var offset = ((Sequence)envelope.Offset).Value;
        if (envelope.Event is not MessageAppended m) return new Resolved(offset, false, []);
        // A notification about an old message is noise (a first start on an old journal, a very long outage).
        if (DateTimeOffset.UtcNow - m.At > _options.MaxAge) return new Resolved(offset, true, []);
        IReadOnlyList<UserId> members = m.ChatId.DirectMembers() is var (a, b)
            ? [a, b]
            : (await _chats.Ask<ChatQueries.MembersAt>(new ChatQueries.GetMembersAt(m.ChatId, m.Seq), AskTimeout)).Members;
        var presences = await Task.WhenAll(members.Where(u => u != m.Sender)
            .Select(u => _recentPresence.GetAsync(u, AskPresence)));
        return new Resolved(offset, true, presences
            .Where(p => p.OnlineDevices.Count == 0)
            .Select(p => NotificationRequest.For(p.UserId, m.ChatId, m.Seq, m.Sender, m.At))
            .ToList());
    }

    private Task<PresenceCommands.PresenceStatus> AskPresence(UserId user) =>
        _presence.Ask<PresenceCommands.PresenceStatus>(new PresenceCommands.GetPresence(user), AskTimeout);

    /// <summary>Publishes a batch, retrying with backoff until the sink takes it; returns the offset to persist (0: none).</summary>
    private async Task<long> PublishAsync(IEnumerable<Resolved> batch)
    {
        _recentPresence.Prune();
        var resolved = batch.ToList();
        var requests = resolved.SelectMany(r => r.Requests).ToList();
        var delay = TimeSpan.FromMilliseconds(100);
        while (requests.Count > 0)
        {
            try
            {
                await _sink.PublishAsync(requests, CancellationToken.None);
                break;
            }
            catch (Exception e)
            {
                _log.Warning("Publishing {0} notifications failed ({1}); retrying in {2} ms", requests.Count, e.Message, delay.TotalMilliseconds);
                await Task.Delay(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxBackoff.Ticks));
            }
        }
        return resolved.LastOrDefault(r => r.IsMessage)?.Offset ?? 0;
    }
}
