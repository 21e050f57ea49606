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
/// Direct chats push to their members' connections, learned from each member's PresenceActor
/// (<see cref="MemberRoutes"/>); groups push once per subscribed edge process (<see cref="ChatWatch"/>).
/// Receipts that arrive while one is being written are written together next.
/// </summary>
public sealed class ChatActor : ReceivePersistentActor, IWithTimers
{
    private sealed record ShareExpired(long Seq);

    private readonly LiveShares _liveShares = new();
    private MemberRoutes? _routes; // made on first use: the timers are set after the constructor

    public ITimerScheduler Timers { get; set; } = null!;

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
    private readonly long _snapshotSpacing;
    private bool _snapshotDue;
    private bool _stopRequested;
    private IMaterializer? _materializer; // one per chat, made on its first journal read
    // Acks of resends whose original is still being written: answered once it is durable.
    private readonly List<(MessageAccepted Ack, IActorRef ReplyTo)> _duplicatesAwaitingDurability = new();
    // Cursor moves that arrived while a cursor write was in flight: written as one event when it completes.
    // One entry per (user, device, kind): a later move supersedes an earlier one, so the buffer stays bounded.
    private readonly Dictionary<(UserId, DeviceId, CursorKind), BufferedCursor> _bufferedCursors = new();
    private bool _cursorWriteInFlight;
    // Edge fanouts subscribed to this group's live entries, with the users each serves.
    private readonly Dictionary<IActorRef, HashSet<UserId>> _watchers = new();
    private GroupReceipts? _lastGroupReceipts;

    public ChatActor(string chatId, IActorRef presence, ChatSettings settings)
    {
        _presence = presence;
        _settings = settings;
        _state = NewState(new ChatId(chatId));
        PersistenceId = PersistenceIdOf(new ChatId(chatId));
        _snapshotSpacing = settings.SnapshotSpacingFor(PersistenceId);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not ChatSnapshot snapshot) return;
            _state = ChatState.FromSnapshot(snapshot, _settings.RecentCapacity, _settings.DedupeWindow, _settings.MaxGroupMembers);
            _lastSnapshotSeqNr = offer.Metadata.SequenceNr;
        });
        Recover<IChatEvent>(e => _state.Apply(e, LastSequenceNr));
        Recover<RecoveryCompleted>(_ =>
        {
            _durableSeq = _state.LastSeq;
            foreach (var m in _state.Recent.All().Where(m => m.LiveLocation is not null)) StartLiveShare(m.Seq, m.Sender, m.LiveLocation!.Until);
            if (_state.Kind == ChatKind.Group) _lastGroupReceipts = _state.GroupReceiptsUpTo(_durableSeq);
        });

        // Stop waits behind any stashed commands, so none is dropped by the stop.
        Command<Stop>(_ => WhenNoSnapshotDue(StopWhenIdle));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of {0} failed; recovery replays more events", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "Deleting old snapshots of {0} failed", PersistenceId));
        Command<ChatWatch.WatchChat>(w => WhenNoSnapshotDue(() => AddWatcher(w)));
        Command<ChatWatch.UnwatchChat>(RemoveWatcher);
        Command<Terminated>(t =>
        {
            if (_routes?.Forget(t.ActorRef) != true) _watchers.Remove(t.ActorRef);
        });
        // These change no persisted state, so they need not wait for a snapshot.
        Command<PresenceCommands.DeviceRoutes>(OnDeviceRoutes);
        Command<MemberRoutes.RoutesOverdue>(o => Routes.Overdue(o));
        Command<IChatCommand>(c => WhenNoSnapshotDue(() => Handle(c)));
        Command<UpdateLocation>(u =>
        {
            if (_state.IsMember(u.User) && _liveShares.TryUpdate(u.ShareSeq, u.User, u.Body, DateTimeOffset.UtcNow))
                Push(new ChatNotices.LocationUpdated(_state.Id, u.ShareSeq, u.User, u.Body, u.At));
            else
                Sender.Tell(new ChatRejected(_state.Id, ChatRejections.LiveLocationEnded, $"no live location {u.ShareSeq} of yours is running"));
        });
        Command<StopLocation>(s =>
        {
            if (!_liveShares.End(s.ShareSeq, s.User)) return;
            Timers.Cancel(("live", s.ShareSeq));
            Push(new ChatNotices.LocationStopped(_state.Id, s.ShareSeq, s.User, Expired: false));
        });
        Command<ShareExpired>(e =>
        {
            if (_liveShares.Active.TryGetValue(e.Seq, out var share) && _liveShares.End(e.Seq))
                Push(new ChatNotices.LocationStopped(_state.Id, e.Seq, share.Sharer, Expired: true));
        });
        // Ephemeral: changes no state, so it need not wait for a snapshot.
        Command<SignalTyping>(t =>
        {
            if (_state.IsMember(t.User)) Push(new ChatNotices.Typing(_state.Id, t.User, t.Typing));
        });
        Command<TellMembers>(t =>
        {
            if (!_state.IsMember(t.From)) return;
            foreach (var member in _state.Members.Where(m => m != t.From))
                _presence.Tell(new PresenceCommands.DeliverDeviceNotice(member, null, t.Notice));
        });
        Command<IChatQuery>(q => WhenNoSnapshotDue(() => Answer(q)));
        Command<GetMembersAt>(q => Sender.Tell(new MembersAt(_state.Id, q.Seq, _state.MembersAt(q.Seq))));
    }

    public override string PersistenceId { get; }

    private MemberRoutes Routes => _routes ??= new MemberRoutes(_presence, Self, Context, Timers, _settings);

    public override Recovery Recovery =>
        _settings.RecoverFromSnapshots ? base.Recovery : new Recovery(SnapshotSelectionCriteria.None);

    public static string PersistenceIdOf(ChatId chatId) => $"chat-{chatId.Value}";

    public static Props PropsFor(string chatId, IActorRef presence, ChatSettings settings) =>
        Props.Create(() => new ChatActor(chatId, presence, settings));

    private ChatState NewState(ChatId id) => new(id, _settings.RecentCapacity, _settings.DedupeWindow, _settings.MaxGroupMembers);

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
            case Decision.Persist { Events: [CursorAdvanced move] }:
                PersistCursor(move, Sender);
                break;
            case Decision.Persist p:
                for (var i = 0; i < p.Events.Count; i++)
                    PersistThenReply(p.Events[i], i == p.Events.Count - 1 ? Sender : ActorRefs.Nobody, (command as ChangeGroup)?.Action);
                break;
        }
    }

    private void PersistThenReply(IChatEvent @event, IActorRef replyTo, GroupAction? action)
    {
        _pendingWrites++;
        PersistAsync(@event, persisted =>
        {
            _pendingWrites--;
            OnDurable(persisted, replyTo, action);
            AfterWrite();
        });
        // State moves now so the next command sees the next seq; a failed write stops the actor and
        // recovery rebuilds state from what is really in the journal.
        _state.Apply(@event, LastSequenceNr);
    }

    private void OnDurable(IChatEvent @event, IActorRef replyTo, GroupAction? action)
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
                var message = new ChatMessage(m.ChatId, m.Seq, m.Sender, m.SenderDevice, m.ClientMsgId, m.Body, m.At, Media: m.Media, LiveLocation: m.LiveLocation, Envelopes: m.Envelopes);
                if (m.LiveLocation is { } live) StartLiveShare(m.Seq, m.Sender, live.Until);
                Push(new ChatNotices.NewMessage(m.ChatId, message));
                break;
            case GroupChanged g:
                _durableSeq = g.Seq;
                replyTo.Tell(new GroupUpdated(g.ChatId, action ?? GroupAction.Create, g.Seq));
                PushGroupChange(g);
                PushGroupReceiptsIfMoved();
                break;
            case InviteCodeSet i:
                replyTo.Tell(new GroupUpdated(i.ChatId, GroupAction.ResetInvite, 0));
                break;
        }
    }

    /// <summary>
    /// Writes a cursor move now if no cursor write is in flight, else buffers it for the next write: a group's
    /// members acknowledge every message, and one event per acknowledgement would swamp the journal.
    /// </summary>
    private void PersistCursor(CursorAdvanced move, IActorRef replyTo)
    {
        // Not applied yet: cursors enter the state only once durable, so receipts (pushed, summarised,
        // "delivered to all") never show a move a crash could still lose.
        var key = (move.User, move.Device, move.Kind);
        if (_bufferedCursors.TryGetValue(key, out var earlier))
        {
            earlier.ReplyTo.Add(replyTo);
            if (move.Seq > earlier.Move.Seq) _bufferedCursors[key] = earlier with { Move = move };
        }
        else
        {
            _bufferedCursors[key] = new BufferedCursor(move, [replyTo]);
        }
        if (!_cursorWriteInFlight) WriteBufferedCursors();
    }

    private sealed record BufferedCursor(CursorAdvanced Move, List<IActorRef> ReplyTo);

    private void WriteBufferedCursors()
    {
        var batch = _bufferedCursors.Values.ToList();
        _bufferedCursors.Clear();
        _cursorWriteInFlight = true;
        _pendingWrites++;
        IChatEvent @event = batch is [var one]
            ? one.Move
            : new CursorsAdvanced(_state.Id, batch.Select(b => new CursorMove(b.Move.User, b.Move.Device, b.Move.Kind, b.Move.Seq, b.Move.At)).ToList());
        PersistAsync(@event, persisted =>
        {
            _pendingWrites--;
            _cursorWriteInFlight = false;
            // Receipts are pushed only when a member's own (all-device) cursor moves.
            var before = batch.Select(b => UserCursor(b.Move.User, b.Move.Kind)).ToList();
            _state.Apply(persisted, LastSequenceNr);
            for (var i = 0; i < batch.Count; i++)
            {
                var (move, replyTos) = batch[i];
                foreach (var replyTo in replyTos) replyTo.Tell(new CursorAccepted(move.ChatId, move.Kind, move.Seq));
                var now = UserCursor(move.User, move.Kind);
                if (now > before[i] && _state.Kind == ChatKind.Direct && batch.FindIndex(b => b.Move.User == move.User && b.Move.Kind == move.Kind) == i)
                    Push(new ChatNotices.ReceiptUpdated(move.ChatId, move.User, move.Kind, now, move.At));
            }
            PushGroupReceiptsIfMoved();
            if (_bufferedCursors.Count > 0) WriteBufferedCursors();
            AfterWrite();
        });
    }

    private long UserCursor(UserId user, CursorKind kind) =>
        kind == CursorKind.Delivered ? _state.UserDelivered(user) : _state.UserRead(user);

    private void ReleaseDuplicateAcks()
    {
        if (_duplicatesAwaitingDurability.Count == 0) return;
        foreach (var (ack, replyTo) in _duplicatesAwaitingDurability.Where(d => d.Ack.Seq <= _durableSeq))
            replyTo.Tell(ack);
        _duplicatesAwaitingDurability.RemoveAll(d => d.Ack.Seq <= _durableSeq);
    }

    /// <summary>Direct chats: to each member's connections (through presence until known). Groups: once per subscribed edge fanout.</summary>
    private void Push(ChatNotices.IChatNotice notice)
    {
        if (_state.Kind == ChatKind.Group)
        {
            foreach (var fanout in _watchers.Keys) fanout.Tell(notice);
            return;
        }
        foreach (var member in _state.Members) Routes.Push(member, notice);
    }

    private void OnDeviceRoutes(PresenceCommands.DeviceRoutes routes)
    {
        if (_state.Kind != ChatKind.Direct || !_state.IsMember(routes.UserId)) return;
        foreach (var added in Routes.Learn(routes, Sender))
            added.Tell(new ChatWatch.ChatHead(_state.Id, _durableSeq));
    }

    /// <summary>
    /// A membership change goes to the subscribed fanouts like any entry, and also to the users it names through
    /// their PresenceActor: someone just added has no subscription yet, someone removed must see their removal.
    /// </summary>
    private void PushGroupChange(GroupChanged g)
    {
        var entry = new ChatNotices.NewMessage(g.ChatId, g.ToEntry());
        Push(entry);
        if (g.Change.Kind is GroupChangeKind.Promoted or GroupChangeKind.Demoted or GroupChangeKind.Renamed) return;
        foreach (var user in g.Change.Users)
            _presence.Tell(new PresenceCommands.DeliverNotice(user, entry));
        if (g.Change.Kind is not (GroupChangeKind.Removed or GroupChangeKind.Left)) return;
        foreach (var (fanout, users) in _watchers.ToList())
        {
            users.ExceptWith(g.Change.Users);
            if (users.Count == 0) Unwatch(fanout);
        }
    }

    private void StartLiveShare(long seq, UserId sharer, DateTimeOffset until)
    {
        var left = until - DateTimeOffset.UtcNow;
        if (left <= TimeSpan.Zero) return;
        _liveShares.Start(seq, sharer, until);
        Timers.StartSingleTimer(("live", seq), new ShareExpired(seq), left);
    }

    /// <summary>"Delivered to all" / "read by all" pushed only when one of them moves; O(members), once per write.</summary>
    private void PushGroupReceiptsIfMoved()
    {
        if (_state.Kind != ChatKind.Group) return;
        var receipts = _state.GroupReceiptsUpTo(_durableSeq);
        if (receipts == _lastGroupReceipts) return;
        _lastGroupReceipts = receipts;
        Push(new ChatNotices.GroupReceiptsUpdated(_state.Id, receipts));
    }

    private void AddWatcher(ChatWatch.WatchChat w)
    {
        var accepted = _state.Kind == ChatKind.Group && _state.IsMember(w.User);
        if (accepted)
        {
            if (!_watchers.TryGetValue(w.Fanout, out var users))
            {
                _watchers[w.Fanout] = users = new HashSet<UserId>();
                Context.Watch(w.Fanout);
            }
            users.Add(w.User);
        }
        Sender.Tell(new ChatWatch.ChatWatched(_state.Id, w.User, accepted, _durableSeq));
    }

    private void RemoveWatcher(ChatWatch.UnwatchChat u)
    {
        if (!_watchers.TryGetValue(u.Fanout, out var users)) return;
        users.Remove(u.User);
        if (users.Count == 0) Unwatch(u.Fanout);
    }

    private void Unwatch(IActorRef fanout)
    {
        _watchers.Remove(fanout);
        Context.Unwatch(fanout);
    }

    private void AfterWrite()
    {
        if (_pendingWrites > 0)
        {
            // A snapshot must be exactly the journal up to its sequence number, so once one is due new
            // commands wait (stashed) until the writes in flight are durable. Under steady load there
            // would otherwise never be a moment with nothing pending, and never a snapshot.
            if (LastSequenceNr - _lastSnapshotSeqNr >= _snapshotSpacing) _snapshotDue = true;
            return;
        }
        if (LastSequenceNr - _lastSnapshotSeqNr >= _snapshotSpacing)
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

    /// <summary>
    /// A crash becomes a stop, never an in-place restart: a restarted instance keeps its reference, so the edge
    /// fanouts watching it would never learn that their subscriptions were lost. Sharding starts it afresh
    /// on its next message, and the fanouts subscribe again when they see it terminate.
    /// </summary>
    protected override void PostRestart(Exception reason)
    {
        _log.Error(reason, "{0} failed; stopping it so that it starts afresh", PersistenceId);
        Context.Stop(Self);
    }

    protected override void PostStop()
    {
        _routes?.SendWaiting();
        base.PostStop();
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
            GetMessageReceipts r => r.Requester,
            _ => default,
        };
        // Former group members still read the part of the log they were in; nobody else reads anything.
        if (!_state.CanRead(requester))
        {
            Sender.Tell(new ChatRejected(_state.Id, ChatRejections.NotMember, "you are not a member of this chat"));
            return;
        }
        var (visibleAfter, visibleUpTo) = _state.VisibleRange(requester);
        var lastVisible = Math.Min(_durableSeq, visibleUpTo);
        var isGroup = _state.Kind == ChatKind.Group;

        switch (query)
        {
            case GetMessagesAfter a:
                var after = Math.Max(a.After ?? _state.DeliveredOf(a.Requester, a.Device), visibleAfter);
                var current = _state.IsMember(a.Requester);
                SendPage(after, lastVisible, Math.Clamp(a.Limit, 1, 1000), newestFirst: false, floor: visibleAfter, viewer: (a.Requester, a.Device),
                    receipts: isGroup ? null : _state.ReceiptsUpTo(_durableSeq),
                    groupReceipts: isGroup && current ? _state.GroupReceiptsUpTo(_durableSeq) : null,
                    liveLocations: current ? _liveShares.LatestPositions() : null);
                break;
            case GetMessagesBefore b:
                var before = Math.Min(b.Before ?? long.MaxValue, lastVisible + 1);
                var limit = Math.Clamp(b.Limit, 1, 1000);
                var from = Math.Max(visibleAfter, before - 1 - limit);
                SendPage(from, before - 1, limit, newestFirst: true, floor: visibleAfter, receipts: null, groupReceipts: null,
                    lastSeq: lastVisible, viewer: b.Device is { } device ? (b.Requester, device) : null);
                break;
            case GetChatSummary s:
                Sender.Tell(Summary(s.Requester, visibleAfter, lastVisible));
                break;
            case GetMessageReceipts when !_state.IsMember(requester):
                // Who else has read what is for current members only.
                Sender.Tell(new ChatRejected(_state.Id, ChatRejections.NotMember, "you are no longer a member of this chat"));
                break;
            case GetMessageReceipts r when r.Seq <= visibleAfter || r.Seq > lastVisible:
                Sender.Tell(new ChatRejected(_state.Id, ChatRejections.InvalidCursor, $"no message {r.Seq} you can see"));
                break;
            case GetMessageReceipts r:
                Sender.Tell(_state.MessageReceiptsAt(r.Seq));
                break;
        }
    }

    private ChatSummary Summary(UserId requester, long visibleAfter, long lastVisible)
    {
        // A member re-added by an entry still being written can see nothing durable yet: an empty range.
        lastVisible = Math.Max(lastVisible, visibleAfter);
        var read = Math.Clamp(_state.UserRead(requester), visibleAfter, lastVisible);
        var lastAt = lastVisible == 0 ? null
            : lastVisible == _durableSeq ? _state.LastMessageAt
            : _state.Recent.Find(lastVisible)?.At;
        if (_state.Kind != ChatKind.Group)
            return new ChatSummary(_state.Id, _state.Kind, _state.Members, lastVisible, lastAt, read, lastVisible - read,
                _state.ReceiptsUpTo(_durableSeq));
        var member = _state.IsMember(requester);
        var group = new GroupSummary(_state.Name ?? "", _state.Admins.Order().ToList(), member,
            member ? _state.GroupReceiptsUpTo(_durableSeq) : new GroupReceipts(0, 0));
        // A group's per-member receipts are asked for per message (GetMessageReceipts), not listed here.
        return new ChatSummary(_state.Id, _state.Kind, member ? _state.Members : [], lastVisible, lastAt, read,
            lastVisible - read, [], group);
    }

    /// <summary>Messages with after &lt; seq &lt;= upTo: from memory when the window covers them, else from the journal.</summary>
    private void SendPage(long after, long upTo, int limit, bool newestFirst, long floor,
        IReadOnlyList<MemberReceipts>? receipts, GroupReceipts? groupReceipts, long? lastSeq = null,
        IReadOnlyList<LivePosition>? liveLocations = null, (UserId User, DeviceId Device)? viewer = null)
    {
        var replyTo = Sender;
        var chatId = _state.Id;
        var wanted = (int)Math.Min(limit, Math.Max(0, upTo - after));
        // Seqs can be missing from the log (a write the journal rejected), so pages are counted in messages, not in
        // seqs. Oldest-first pages read from 'after' up; newest-first ones read twice their seq range below the top
        // and keep the newest 'wanted', so a missing seq does not leave them short.
        var readFrom = newestFirst ? Math.Max(floor, upTo - 2L * wanted) : after;
        List<ChatMessage> Kept(IEnumerable<ChatMessage> read) => newestFirst ? read.TakeLast(wanted).ToList() : read.Take(wanted).ToList();
        // More only past what this page holds: a page that promised more across a missing seq would be asked again forever.
        bool HasMore(List<ChatMessage> kept) => newestFirst
            ? (kept.Count > 0 ? kept[0].Seq - 1 : readFrom) > floor
            : kept.Count == wanted && kept.Count > 0 && kept[^1].Seq < upTo;
        long PageAfter(List<ChatMessage> kept) => newestFirst && kept.Count > 0 ? kept[0].Seq - 1 : readFrom;
        lastSeq ??= upTo;

        if (wanted == 0 || _state.Recent.CoversAfter(readFrom))
        {
            var kept = Kept(_state.Recent.After(readFrom, upTo, newestFirst ? int.MaxValue : wanted));
            replyTo.Tell(Page(chatId, PageAfter(kept), kept, newestFirst, HasMore(kept), lastSeq.Value, viewer)
                with { Receipts = receipts, GroupReceipts = groupReceipts, LiveLocations = liveLocations });
            return;
        }

        _materializer ??= Context.Materializer();
        var journal = PersistenceQuery.Get(Context.System)
            .ReadJournalFor<ICurrentEventsByPersistenceIdQuery>(_settings.ReadJournalPluginId);
        journal.CurrentEventsByPersistenceId(PersistenceId, _state.JournalSeqNrAtOrBefore(readFrom + 1), long.MaxValue)
            .Where(envelope => envelope.Event is MessageAppended or GroupChanged)
            .Select(envelope => envelope.Event switch
            {
                MessageAppended m => new ChatMessage(m.ChatId, m.Seq, m.Sender, m.SenderDevice, m.ClientMsgId, m.Body, m.At, Media: m.Media, LiveLocation: m.LiveLocation, Envelopes: m.Envelopes),
                var g => ((GroupChanged)g).ToEntry(),
            })
            .SkipWhile(m => m.Seq <= readFrom)
            .TakeWhile(m => m.Seq <= upTo)
            .Take(newestFirst ? int.MaxValue : wanted)
            // Each device's own envelopes only, before the page is gathered: a large group's have thousands.
            .Select(m => viewer is var (user, device) ? m.ForDevice(user, device) : m)
            .RunWith(Sink.Seq<ChatMessage>(), _materializer)
            .PipeTo(replyTo,
                success: messages =>
                {
                    var kept = Kept(messages);
                    return Page(chatId, PageAfter(kept), kept, newestFirst, HasMore(kept), lastSeq.Value, viewer)
                        with { Receipts = receipts, GroupReceipts = groupReceipts, LiveLocations = liveLocations };
                },
                failure: e => new ChatRejected(chatId, "unavailable", $"history read failed: {e.Message}"));
    }

    /// <summary>
    /// Caps a page at <see cref="MaxPageBytes"/> of bodies and envelopes (at least one message) so it fits a
    /// remoting frame; for a <paramref name="viewer"/> device, sealed messages keep only its envelope.
    /// </summary>
    private static MessagePage Page(ChatId chatId, long after, List<ChatMessage> ascending, bool newestFirst, bool hasMore, long lastSeq,
        (UserId User, DeviceId Device)? viewer)
    {
        var bytes = 0;
        var keep = 0;
        // Newest-first pages keep the newest messages; oldest-first pages keep the oldest.
        var ordered = (newestFirst ? Enumerable.Reverse(ascending) : ascending)
            .Select(m => viewer is var (user, device) ? m.ForDevice(user, device) : m)
            .ToList();
        static int SizeOf(ChatMessage m) => m.Body.Length + (m.Envelopes?.Sum(e => e.Data.Length) ?? 0);
        while (keep < ordered.Count && (keep == 0 || bytes + SizeOf(ordered[keep]) <= MaxPageBytes))
            bytes += SizeOf(ordered[keep++]);
        var cut = keep < ordered.Count;
        return new MessagePage(chatId, after, ordered.Take(keep).ToList(), hasMore || cut, lastSeq);
    }
}
