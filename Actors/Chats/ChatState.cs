using Natter.Messages;
using Natter.Messages.Chats;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatEvents;

namespace Natter.Actors.Chats;

/// <summary>The outcome of deciding on a command: events to persist, or a rejection, or an answer needing no event.</summary>
public abstract record Decision
{
    /// <summary>Events to persist in order (a last admin leaving is two: the leave and a promotion).</summary>
    public sealed record Persist(IReadOnlyList<IChatEvent> Events) : Decision
    {
        public Persist(IChatEvent single) : this([single]) { }
    }

    public sealed record Reject(string Code, string Reason) : Decision;
    public sealed record AlreadyDone(object Reply) : Decision;
}

/// <summary>
/// A chat's state. <see cref="Decide"/> reads it, <see cref="Apply"/> changes it; neither reads a clock,
/// does I/O or draws randomness, so replaying the journal rebuilds exactly this state. It mutates in
/// place (rather than returning a new record) because it is rebuilt per message on the hot path.
/// </summary>
public sealed partial class ChatState
{
    public const int IndexStride = 128;

    private readonly Dictionary<(UserId, DeviceId), DedupeWindow> _dedupe = new();
    private readonly Dictionary<(UserId, DeviceId), long> _deviceDelivered = new();
    private readonly Dictionary<UserId, long> _userDelivered = new();
    private readonly Dictionary<UserId, long> _userRead = new();
    private readonly List<(long ChatSeq, long JournalSeqNr)> _index = new();
    private readonly List<UserId> _members = new();
    private readonly HashSet<UserId> _memberSet = new();
    private readonly int _dedupeWindow;

    public ChatState(ChatId id, int recentCapacity = 512, int dedupeWindow = 1024, int maxGroupMembers = 1024)
    {
        Id = id;
        Recent = new RecentMessages(recentCapacity);
        _dedupeWindow = dedupeWindow;
        MaxGroupMembers = maxGroupMembers;
    }

    public ChatId Id { get; }
    public bool Exists { get; private set; }
    public ChatKind Kind { get; private set; }
    public IReadOnlyList<UserId> Members => _members;
    public long LastSeq { get; private set; }
    public DateTimeOffset? LastMessageAt { get; private set; }
    public RecentMessages Recent { get; }

    public bool IsMember(UserId user) => _memberSet.Contains(user);

    private void SetMembers(IEnumerable<UserId> members)
    {
        _members.Clear();
        _memberSet.Clear();
        foreach (var m in members) AddMember(m);
    }

    private void AddMember(UserId user)
    {
        if (_memberSet.Add(user)) _members.Add(user);
    }

    private void RemoveMember(UserId user)
    {
        if (_memberSet.Remove(user)) _members.Remove(user);
    }

    public long DeliveredOf(UserId user, DeviceId device) => _deviceDelivered.GetValueOrDefault((user, device));
    public long UserDelivered(UserId user) => _userDelivered.GetValueOrDefault(user);
    public long UserRead(UserId user) => _userRead.GetValueOrDefault(user);

    /// <summary>Every member's receipts, capped at <paramref name="upToSeq"/> (what is durable); read implies delivered.</summary>
    public IReadOnlyList<MemberReceipts> ReceiptsUpTo(long upToSeq) => _members
        .Select(m => (Member: m, Read: Math.Min(UserRead(m), upToSeq)))
        .Select(r => new MemberReceipts(r.Member, Math.Max(Math.Min(UserDelivered(r.Member), upToSeq), r.Read), r.Read))
        .ToList();

    /// <summary>
    /// Where to start reading the journal to find messages from <paramref name="chatSeq"/> on: a journal
    /// sequence number at or before that message (every <see cref="IndexStride"/>th message is indexed).
    /// </summary>
    public long JournalSeqNrAtOrBefore(long chatSeq)
    {
        var best = 1L;
        foreach (var (seq, seqNr) in _index)
        {
            if (seq > chatSeq) break;
            best = seqNr;
        }
        return best;
    }

    public Decision Decide(IChatCommand command) => command switch
    {
        CreateChat c => DecideCreate(c),
        SendMessage s => DecideSend(s),
        AdvanceCursor a => DecideCursor(a),
        ChangeGroup g => DecideGroup(g),
        _ => new Decision.Reject("unknown_command", command.GetType().Name),
    };

    private Decision DecideCreate(CreateChat c)
    {
        var members = c.Members.Distinct().ToList();
        if (Exists)
            return members.Order().SequenceEqual(Members.Order()) && c.Kind == Kind
                ? new Decision.AlreadyDone(new ChatReplies.ChatReady(Id, Kind, Members))
                : new Decision.Reject(ChatRejections.AlreadyExists, "the chat exists with other members");
        if (c.Kind != ChatKind.Direct)
            return new Decision.Reject(ChatRejections.InvalidMembers, "groups are created with a group 'create' action");
        if ((members.Count != 2 || Id.DirectMembers() is not { } pair
                                          || !members.Order().SequenceEqual(new[] { pair.Item1, pair.Item2 }.Order())))
            return new Decision.Reject(ChatRejections.InvalidMembers, "a direct chat has exactly the two users its id names");
        return new Decision.Persist(new ChatCreated(Id, c.Kind, members, c.CreatedBy, c.At));
    }

    private Decision DecideSend(SendMessage s)
    {
        if (!Exists) return new Decision.Reject(ChatRejections.ChatNotFound, "no such chat");
        if (!IsMember(s.Sender)) return new Decision.Reject(ChatRejections.NotMember, "you are not a member of this chat");
        if (_dedupe.TryGetValue((s.Sender, s.SenderDevice), out var window) && window.TryGet(s.ClientMsgId, out var seq))
        {
            var at = Recent.Find(seq)?.At ?? s.At;
            return new Decision.AlreadyDone(new ChatReplies.MessageAccepted(Id, s.ClientMsgId, seq, at, Duplicate: true));
        }
        return new Decision.Persist(new MessageAppended(Id, LastSeq + 1, s.Sender, s.SenderDevice, s.ClientMsgId, s.Body, s.At, s.Media, s.LiveLocation, s.Envelopes));
    }

    private Decision DecideCursor(AdvanceCursor a)
    {
        if (!Exists) return new Decision.Reject(ChatRejections.ChatNotFound, "no such chat");
        if (!IsMember(a.User)) return new Decision.Reject(ChatRejections.NotMember, "you are not a member of this chat");
        if (a.Seq > LastSeq) return new Decision.Reject(ChatRejections.InvalidCursor, $"seq {a.Seq} is beyond the last message {LastSeq}");
        var current = a.Kind == CursorKind.Delivered ? DeliveredOf(a.User, a.Device) : UserRead(a.User);
        return a.Seq <= current
            ? new Decision.AlreadyDone(new ChatReplies.CursorAccepted(Id, a.Kind, current))
            : new Decision.Persist(new CursorAdvanced(Id, a.User, a.Device, a.Kind, a.Seq, a.At));
    }

    /// <summary>Applies one event; <paramref name="journalSeqNr"/> is the event's sequence number in the journal.</summary>
    public void Apply(IChatEvent @event, long journalSeqNr)
    {
        switch (@event)
        {
            case ChatCreated c:
                Exists = true;
                Kind = c.Kind;
                SetMembers(c.Members);
                foreach (var m in c.Members) _visibleFrom[m] = 1;
                break;
            case GroupChanged g:
                ApplyGroupChange(g, journalSeqNr);
                break;
            case InviteCodeSet i:
                InviteCodeHash = i.CodeHash;
                break;
            case MessageAppended m:
                AppendEntry(new ChatMessage(Id, m.Seq, m.Sender, m.SenderDevice, m.ClientMsgId, m.Body, m.At, Media: m.Media, LiveLocation: m.LiveLocation, Envelopes: m.Envelopes), journalSeqNr);
                DedupeOf(m.Sender, m.SenderDevice).Remember(m.ClientMsgId, m.Seq);
                break;
            case CursorAdvanced c:
                ApplyCursor(c.User, c.Device, c.Kind, c.Seq);
                break;
            case CursorsAdvanced many:
                foreach (var c in many.Moves) ApplyCursor(c.User, c.Device, c.Kind, c.Seq);
                break;
        }
    }

    private void ApplyCursor(UserId user, DeviceId device, CursorKind kind, long seq)
    {
        if (kind == CursorKind.Delivered)
        {
            _deviceDelivered[(user, device)] = Math.Max(DeliveredOf(user, device), seq);
            _userDelivered[user] = Math.Max(UserDelivered(user), seq);
            return;
        }
        _userRead[user] = Math.Max(UserRead(user), seq);
        // Read implies delivered.
        _userDelivered[user] = Math.Max(UserDelivered(user), seq);
    }

    /// <summary>Adds an entry to the in-memory window and the sparse journal index.</summary>
    private void AppendEntry(ChatMessage entry, long journalSeqNr)
    {
        LastSeq = entry.Seq;
        LastMessageAt = entry.At;
        Recent.Add(entry);
        // Sending in a chat means having read it (WhatsApp's rule); unread counts rely on it.
        _userRead[entry.Sender] = Math.Max(UserRead(entry.Sender), entry.Seq);
        if (entry.Seq % IndexStride == 1) _index.Add((entry.Seq, journalSeqNr));
    }

    private DedupeWindow DedupeOf(UserId user, DeviceId device)
    {
        if (!_dedupe.TryGetValue((user, device), out var window))
            _dedupe[(user, device)] = window = new DedupeWindow(_dedupeWindow);
        return window;
    }

    public ChatSnapshot ToSnapshot() => new(
        Id, Exists, Kind, Members, LastSeq, LastMessageAt,
        Recent.All().ToList(),
        _dedupe.Select(kv => new DeviceDedupe(kv.Key.Item1, kv.Key.Item2, kv.Value.Entries().Select(e => e.Key).ToList(),
            kv.Value.Entries().Select(e => e.Value).ToList())).ToList(),
        _deviceDelivered.Select(kv => new DeviceCursor(kv.Key.Item1, kv.Key.Item2, kv.Value)).ToList(),
        _userDelivered.Select(kv => new UserCursor(kv.Key, kv.Value)).ToList(),
        _userRead.Select(kv => new UserCursor(kv.Key, kv.Value)).ToList(),
        _index.Select(i => new IndexEntry(i.ChatSeq, i.JournalSeqNr)).ToList(),
        Name,
        _admins.ToList(),
        _visibleFrom.Select(kv => new UserCursor(kv.Key, kv.Value)).ToList(),
        _visibleTo.Select(kv => new UserCursor(kv.Key, kv.Value)).ToList(),
        InviteCodeHash);

    public static ChatState FromSnapshot(ChatSnapshot s, int recentCapacity = 512, int dedupeWindow = 1024, int maxGroupMembers = 1024)
    {
        var state = new ChatState(s.ChatId, recentCapacity, dedupeWindow, maxGroupMembers)
        {
            Exists = s.Exists,
            Kind = s.Kind,
            LastSeq = s.LastSeq,
            LastMessageAt = s.LastMessageAt,
            Name = s.Name,
            InviteCodeHash = s.InviteCodeHash,
        };
        state.SetMembers(s.Members);
        foreach (var a in s.Admins ?? []) state._admins.Add(a);
        // Snapshots from before groups existed name no join points: direct members see everything.
        foreach (var m in s.Members) state._visibleFrom[m] = 1;
        foreach (var v in s.VisibleFrom ?? []) state._visibleFrom[v.User] = v.Seq;
        foreach (var v in s.VisibleTo ?? []) state._visibleTo[v.User] = v.Seq;
        foreach (var m in s.Recent) state.Recent.Add(m);
        foreach (var d in s.Dedupe)
            for (var i = 0; i < d.ClientMsgIds.Count; i++)
                state.DedupeOf(d.User, d.Device).Remember(d.ClientMsgIds[i], d.Seqs[i]);
        foreach (var c in s.DeviceDelivered) state._deviceDelivered[(c.User, c.Device)] = c.Seq;
        foreach (var c in s.UserDelivered) state._userDelivered[c.User] = c.Seq;
        foreach (var c in s.UserRead) state._userRead[c.User] = c.Seq;
        foreach (var i in s.Index) state._index.Add((i.ChatSeq, i.JournalSeqNr));
        return state;
    }
}
