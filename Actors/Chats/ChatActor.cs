using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Natter.Actors.Presence;
using Natter.Messages;
using Natter.Messages.Chats;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatEvents;
using static Natter.Messages.Chats.ChatQueries;
using static Natter.Messages.Chats.ChatReplies;

namespace Natter.Actors.Chats;

/// <summary>
/// One conversation: its ordered log, membership and receipts. Writes use PersistAsync so the journal can
/// batch many chats' writes, but every reply and every push to devices happens in the persist callback:
/// nothing is acknowledged or delivered before it is durable. Reads never see a message that is not durable.
/// </summary>
public sealed class ChatActor : ReceivePersistentActor
{
    /// <summary>Sharding's hand-off message: stop only once pending writes have completed.</summary>
    public sealed class Stop
    {
        public static readonly Stop Instance = new();
        private Stop() { }
    }

    /// <summary>Body bytes per page, so a page always fits in one remoting frame (HOCON/remote.hocon).</summary>
    public const int MaxPageBytes = 1024 * 1024;

    private readonly IActorRef _presence;
    private readonly ChatSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ChatState _state;
    private long _durableSeq;
    private int _pendingWrites;
    private long _lastSnapshotSeqNr;
    private bool _snapshotDue;
    private bool _stopRequested;
    private IMaterializer? _materializer; // one per chat, made on its first journal read
    // Acks of resends whose original is still being written: answered once it is durable.
    private readonly List<(MessageAccepted Ack, IActorRef ReplyTo)> _duplicatesAwaitingDurability = new();

    public ChatActor(string chatId, IActorRef presence, ChatSettings settings)
    {
        _presence = presence;
        _settings = settings;
        _state = NewState(new ChatId(chatId));
        PersistenceId = PersistenceIdOf(new ChatId(chatId));

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not ChatSnapshot snapshot) return;
            _state = ChatState.FromSnapshot(snapshot, _settings.RecentCapacity, _settings.DedupeWindow);
            _lastSnapshotSeqNr = offer.Metadata.SequenceNr;
        });
        Recover<IChatEvent>(e => _state.Apply(e, LastSequenceNr));
        Recover<RecoveryCompleted>(_ => _durableSeq = _state.LastSeq);

        // Stop waits behind any stashed commands, so none is dropped by the stop.
        Command<Stop>(_ => WhenNoSnapshotDue(StopWhenIdle));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of {0} failed; recovery replays more events", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "Deleting old snapshots of {0} failed", PersistenceId));
        Command<IChatCommand>(c => WhenNoSnapshotDue(() => Handle(c)));
        Command<IChatQuery>(q => WhenNoSnapshotDue(() => Answer(q)));
    }

    public override string PersistenceId { get; }

    public override Recovery Recovery =>
        _settings.RecoverFromSnapshots ? base.Recovery : new Recovery(SnapshotSelectionCriteria.None);

    public static string PersistenceIdOf(ChatId chatId) => $"chat-{chatId.Value}";

    public static Props PropsFor(string chatId, IActorRef presence, ChatSettings settings) =>
        Props.Create(() => new ChatActor(chatId, presence, settings));

    private ChatState NewState(ChatId id) => new(id, _settings.RecentCapacity, _settings.DedupeWindow);

    private void WhenNoSnapshotDue(Action handle)
    {
        if (_snapshotDue) Stash.Stash();
        else handle();
    }

    private void Handle(IChatCommand command)
    {
        switch (_state.Decide(command))
        {
            case Decision.Reject r:
                Sender.Tell(new ChatRejected(_state.Id, r.Code, r.Reason, (command as SendMessage)?.ClientMsgId));
                break;
            case Decision.AlreadyDone { Reply: MessageAccepted { Seq: var seq } ack } when seq > _durableSeq:
                _duplicatesAwaitingDurability.Add((ack, Sender));
                break;
            case Decision.AlreadyDone done:
                Sender.Tell(done.Reply);
                break;
            case Decision.Persist p:
                PersistThenReply(p.Event, Sender);
                break;
        }
    }

    private void PersistThenReply(IChatEvent @event, IActorRef replyTo)
    {
        // Receipts are pushed only when the member's own (all-device) cursor moves.
        var receiptAdvances = @event is CursorAdvanced c && c.Seq > UserCursor(c.User, c.Kind);
        _pendingWrites++;
        PersistAsync(@event, persisted =>
        {
            _pendingWrites--;
            OnDurable(persisted, replyTo, receiptAdvances);
            AfterWrite();
        });
        // State moves now so the next command sees the next seq; a failed write stops the actor and
        // recovery rebuilds state from what is really in the journal.
        _state.Apply(@event, LastSequenceNr);
    }

    private long UserCursor(UserId user, CursorKind kind) =>
        kind == CursorKind.Delivered ? _state.UserDelivered(user) : _state.UserRead(user);

    private void OnDurable(IChatEvent @event, IActorRef replyTo, bool receiptAdvances)
    {
        switch (@event)
        {
            case ChatCreated created:
                replyTo.Tell(new ChatReady(created.ChatId, created.Kind, created.Members));
                break;
            case MessageAppended m:
                _durableSeq = m.Seq;
                replyTo.Tell(new MessageAccepted(m.ChatId, m.ClientMsgId, m.Seq, m.At, Duplicate: false));
                ReleaseDuplicateAcks();
                var message = new ChatMessage(m.ChatId, m.Seq, m.Sender, m.SenderDevice, m.ClientMsgId, m.Body, m.At);
                PushToMembers(new ChatNotices.NewMessage(m.ChatId, message));
                break;
            case CursorAdvanced c:
                replyTo.Tell(new CursorAccepted(c.ChatId, c.Kind, c.Seq));
                if (receiptAdvances) PushToMembers(new ChatNotices.ReceiptUpdated(c.ChatId, c.User, c.Kind, c.Seq, c.At));
                break;
        }
    }

    private void ReleaseDuplicateAcks()
    {
        if (_duplicatesAwaitingDurability.Count == 0) return;
        foreach (var (ack, replyTo) in _duplicatesAwaitingDurability.Where(d => d.Ack.Seq <= _durableSeq))
            replyTo.Tell(ack);
        _duplicatesAwaitingDurability.RemoveAll(d => d.Ack.Seq <= _durableSeq);
    }

    private void PushToMembers(ChatNotices.IChatNotice notice)
    {
        foreach (var member in _state.Members)
            _presence.Tell(new PresenceCommands.DeliverNotice(member, notice));
    }

    private void AfterWrite()
    {
        if (_pendingWrites > 0)
        {
            // A snapshot must be exactly the journal up to its sequence number, so once one is due new
            // commands wait (stashed) until the writes in flight are durable. Under steady load there
            // would otherwise never be a moment with nothing pending, and never a snapshot.
            if (LastSequenceNr - _lastSnapshotSeqNr >= _settings.SnapshotEvery) _snapshotDue = true;
            return;
        }
        if (LastSequenceNr - _lastSnapshotSeqNr >= _settings.SnapshotEvery)
        {
            // No write is pending, so the state is exactly the journal up to LastSequenceNr.
            SaveSnapshot(_state.ToSnapshot());
            _lastSnapshotSeqNr = LastSequenceNr;
        }
        if (_snapshotDue)
        {
            _snapshotDue = false;
            Stash.UnstashAll();
        }
        if (_stopRequested) Context.Stop(Self);
    }

    private void StopWhenIdle()
    {
        if (_pendingWrites == 0) Context.Stop(Self);
        else _stopRequested = true;
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // State was applied ahead of the write: restart from the journal rather than continue from it.
        _log.Error(cause, "Journal rejected event {0} of {1}; stopping to recover from the journal", sequenceNr, PersistenceId);
        Context.Stop(Self);
    }

    private void Answer(IChatQuery query)
    {
        if (!_state.Exists)
        {
            Sender.Tell(new ChatRejected(_state.Id, ChatRejections.ChatNotFound, "no such chat"));
            return;
        }
        var requester = query switch
        {
            GetMessagesAfter a => a.Requester,
            GetMessagesBefore b => b.Requester,
            GetChatSummary s => s.Requester,
            _ => default,
        };
        if (!_state.IsMember(requester))
        {
            Sender.Tell(new ChatRejected(_state.Id, ChatRejections.NotMember, "you are not a member of this chat"));
            return;
        }

        switch (query)
        {
            case GetMessagesAfter a:
                var after = a.After ?? _state.DeliveredOf(a.Requester, a.Device);
                SendPage(after, _durableSeq, Math.Clamp(a.Limit, 1, 1000), newestFirst: false, _state.ReceiptsUpTo(_durableSeq));
                break;
            case GetMessagesBefore b:
                var before = Math.Min(b.Before ?? long.MaxValue, _durableSeq + 1);
                var limit = Math.Clamp(b.Limit, 1, 1000);
                var from = Math.Max(0, before - 1 - limit);
                SendPage(from, before - 1, limit, newestFirst: true, receipts: null);
                break;
            case GetChatSummary s:
                var read = Math.Min(_state.UserRead(s.Requester), _durableSeq);
                Sender.Tell(new ChatSummary(_state.Id, _state.Kind, _state.Members, _durableSeq,
                    _durableSeq > 0 ? _state.LastMessageAt : null, read, _durableSeq - read, _state.ReceiptsUpTo(_durableSeq)));
                break;
        }
    }

    /// <summary>Messages with after &lt; seq &lt;= upTo: from memory when the window covers them, else from the journal.</summary>
    private void SendPage(long after, long upTo, int limit, bool newestFirst, IReadOnlyList<MemberReceipts>? receipts)
    {
        var replyTo = Sender;
        var chatId = _state.Id;
        var wanted = (int)Math.Min(limit, Math.Max(0, upTo - after));
        // Pages newest-first start from the top of the range, so take the last 'wanted' of it.
        var start = newestFirst ? Math.Max(after, upTo - wanted) : after;
        var hasMore = newestFirst ? start > 0 : upTo - after > wanted;

        if (wanted == 0 || _state.Recent.CoversAfter(start))
        {
            replyTo.Tell(Page(chatId, start, _state.Recent.After(start, upTo, wanted), newestFirst, hasMore, _durableSeq) with { Receipts = receipts });
            return;
        }

        var lastSeq = _durableSeq;
        _materializer ??= Context.Materializer();
        var journal = PersistenceQuery.Get(Context.System)
            .ReadJournalFor<ICurrentEventsByPersistenceIdQuery>(_settings.ReadJournalPluginId);
        journal.CurrentEventsByPersistenceId(PersistenceId, _state.JournalSeqNrAtOrBefore(start + 1), long.MaxValue)
            .Where(envelope => envelope.Event is MessageAppended)
            .Select(envelope => (MessageAppended)envelope.Event)
            .SkipWhile(m => m.Seq <= start)
            .TakeWhile(m => m.Seq <= upTo)
            .Take(wanted)
            .Select(m => new ChatMessage(m.ChatId, m.Seq, m.Sender, m.SenderDevice, m.ClientMsgId, m.Body, m.At))
            .RunWith(Sink.Seq<ChatMessage>(), _materializer)
            .PipeTo(replyTo,
                success: messages => Page(chatId, start, messages.ToList(), newestFirst, hasMore, lastSeq) with { Receipts = receipts },
                failure: e => new ChatRejected(chatId, "unavailable", $"history read failed: {e.Message}"));
    }

    /// <summary>Caps a page at <see cref="MaxPageBytes"/> of bodies (at least one message) so it fits a remoting frame.</summary>
    private static MessagePage Page(ChatId chatId, long after, List<ChatMessage> ascending, bool newestFirst, bool hasMore, long lastSeq)
    {
        var bytes = 0;
        var keep = 0;
        // Newest-first pages keep the newest messages; oldest-first pages keep the oldest.
        var ordered = newestFirst ? Enumerable.Reverse(ascending).ToList() : ascending;
        while (keep < ordered.Count && (keep == 0 || bytes + ordered[keep].Body.Length <= MaxPageBytes))
            bytes += ordered[keep++].Body.Length;
        var cut = keep < ordered.Count;
        return new MessagePage(chatId, after, ordered.Take(keep).ToList(), hasMore || cut, lastSeq);
    }
}
