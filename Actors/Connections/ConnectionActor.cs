using System.Buffers.Text;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using Natter.Actors.Chats;
using Natter.Actors.Presence;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Natter.Messages.Users;
using static Natter.Actors.Connections.ConnectionMessages;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatQueries;
using static Natter.Messages.Chats.ChatReplies;

namespace Natter.Actors.Connections;

/// <summary>
/// One authenticated client socket on the edge. It turns client frames into commands to the shard
/// regions, and chat notices into frames, keeping each chat's messages in order and gap-free on this
/// connection (missing seqs are fetched from the chat before anything newer goes out). Output goes
/// through a bounded queue: a client that cannot keep up is disconnected and resyncs from its cursors.
/// </summary>
public sealed partial class ConnectionActor : UntypedActor
{
    /// <param name="After">The seq the fetch asked after (null: from where this user's view of the chat starts).</param>
    private sealed record FetchResult(ChatId ChatId, object Reply, int Reserved, long? After);

    private sealed record OpenChatResult(string? Rid, string Peer, GatewayResult<ChatId> Outcome);

    private sealed record HistoryResult(string? Rid, ChatId ChatId, GatewayResult<MessagePage> Outcome);

    private sealed record GroupResult(string? Rid, GatewayResult<GroupOutcome> Outcome);

    private sealed record MessageInfoResult(string? Rid, GatewayResult<MessageReceipts> Outcome);

    private sealed record PresenceResult(string? Rid, string UserId, PresenceCommands.PresenceView? View);

    private sealed record ContinueFetch(ChatId ChatId) : IDeadLetterSuppression;

    private sealed record ChatListFailed(string Reason);

    private sealed class RefreshPresence : IDeadLetterSuppression
    {
        public static readonly RefreshPresence Instance = new();
    }

    private readonly UserId _user;
    private readonly DeviceId _device;
    private readonly string _connectionId;
    private readonly IClientOutbound _outbound;
    private readonly ChatGateway _gateway;
    private readonly IActorRef _presence;
    private readonly IActorRef _fanout;
    private readonly ConnectionSettings _settings;
    private readonly DateTimeOffset _tokenExpiresAt;
    private readonly DateTimeOffset _connectedAt = DateTimeOffset.UtcNow;
    private DateTimeOffset _lastInbound = DateTimeOffset.UtcNow;
    private TokenBucket? _sends;
    private TokenBucket? _typing;
    private TokenBucket? _locations;
    // What an idle connection does not use is created when first needed (the rate limits above among them):
    // an edge holds many of them.
    private ILoggingAdapter? _logger;
    private Dictionary<ChatId, ChatStream>? _streams; // created with the first chat the connection streams
    private HashSet<(ChatId, long)>? _ackedHere; // sends acked on this connection whose live copy has not come yet
    private Dictionary<ChatId, long>? _syncCursors; // during a sync
    private HashSet<ChatId>? _subscribedGroups;
    private int _syncPendingChats;
    private int _syncChats;
    private int _syncPushed;
    private Dictionary<ChatId, ChatCatchUp>? _syncSummary; // during a sync
    private bool _syncInProgress;
    private Queue<SyncFrame>? _queuedSyncs;
    private bool _closing;

    private ILoggingAdapter Log => _logger ??= Context.GetLogger();

    public ConnectionActor(UserId user, DeviceId device, string connectionId, DateTimeOffset tokenExpiresAt,
        IClientOutbound outbound, ChatGateway gateway, IActorRef presence, IActorRef fanout, ConnectionSettings settings)
    {
        _user = user;
        _device = device;
        _connectionId = connectionId;
        _tokenExpiresAt = tokenExpiresAt;
        _outbound = outbound;
        _gateway = gateway;
        _presence = presence;
        _fanout = fanout;
        _settings = settings;
    }

    // One switch rather than ReceiveActor's handlers: those are delegates built per instance, about 3 KB for
    // each of the (many, mostly idle) connections an edge holds.
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Inbound i:
                _lastInbound = DateTimeOffset.UtcNow;
                OnFrame(i.Frame);
                break;
            case InboundInvalid i:
                _lastInbound = DateTimeOffset.UtcNow;
                Emit(i.Error);
                break;
            case SocketClosed:
                Context.Stop(Self);
                break;

            case ChatNotices.NewMessage n: OnLiveMessage(n.Message); break;
            case ChatNotices.ReceiptUpdated r:
                Emit(new ReceiptFrame(r.ChatId.Value, r.User.Value, r.Kind == CursorKind.Delivered ? "delivered" : "read", r.Seq, r.At));
                break;
            case ChatNotices.GroupReceiptsUpdated r: Emit(new GroupReceiptsFrame(r.ChatId.Value, r.Receipts.DeliveredToAll, r.Receipts.ReadByAll)); break;
            case ChatWatch.ChatHead head: OnChatHead(head); break;
            case ChatFanout.SubscribeAgain:
                foreach (var chatId in _subscribedGroups ?? []) _fanout.Tell(new ChatFanout.Subscribe(chatId, _user, Self));
                break;
            case ChatNotices.Typing t:
                if (t.User != _user) Emit(new TypingNoticeFrame(t.ChatId.Value, t.User.Value, t.IsTyping ? "typing" : "paused"));
                break;
            case ChatNotices.LocationUpdated l: Emit(new LocationNoticeFrame(l.ChatId.Value, l.ShareSeq, l.User.Value, l.Body, l.At)); break;
            case ChatNotices.LocationStopped l:
                Emit(new LocationStoppedFrame(l.ChatId.Value, l.ShareSeq, l.User.Value, l.Expired ? "expired" : "stopped"));
                break;
            case PresenceCommands.PresenceChanged p: Emit(new PresenceFrame(null, p.User.Value, true, p.Online, p.LastSeen)); break;
            case PresenceResult r:
                Emit(r.View is { } v
                    ? new PresenceFrame(r.Rid, v.UserId.Value, v.Visible, v.Online, v.LastSeen)
                    : new ErrorFrame(ErrorCodes.Unavailable, "presence could not be read; retry", r.Rid));
                break;

            case MessageAccepted a: OnAccepted(a); break;
            case CursorAccepted: break;
            case ChatRejected { ClientMsgId: { } clientMsgId } r: Emit(new ErrorFrame(r.Code, r.Reason, clientMsgId, ChatId: r.ChatId.Value)); break;
            case ChatRejected r: Emit(new ErrorFrame(r.Code, r.Reason, r.ChatId.Value)); break;
            case UserReplies.ChatList list: OnChatList(list); break;
            case ChatListFailed failed: OnChatListFailed(failed); break;
            case FetchResult result: OnFetchResult(result); break;
            case ContinueFetch c: FetchWhenItFits(c.ChatId, StreamOf(c.ChatId)); break;
            case OpenChatResult r: OnOpenChatResult(r); break;
            case HistoryResult r: OnHistoryResult(r); break;
            case EnvelopesChecked checkedSend: OnEnvelopesChecked(checkedSend); break;
            case GroupResult r:
                Emit(r.Outcome is { Ok: true, Value: var o }
                    ? new GroupResultFrame(r.Rid, GroupActions.NameOf(o!.Action), o.GroupId.Value, o.Seq, o.InviteCode)
                    : new ErrorFrame(r.Outcome.ErrorCode!, r.Outcome.ErrorMessage!, r.Rid));
                break;
            case MessageInfoResult r:
                Emit(r.Outcome.Ok
                    ? MessageFrames.Of(r.Rid, r.Outcome.Value!)
                    : new ErrorFrame(r.Outcome.ErrorCode!, r.Outcome.ErrorMessage!, r.Rid));
                break;

            case DeviceNotices.PreKeysLow n: Emit(new PreKeysLowFrame(n.Remaining)); break;
            case DeviceNotices.IdentityChanged n: Emit(new IdentityChangedFrame(n.Contact.Value, n.Device.Value)); break;
            case DeviceNotices.DevicesChanged n: Emit(new DevicesChangedFrame(n.User.Value)); break;
            case DeviceNotices.DeviceMessageArrived n:
                Emit(new DeviceMessageFrame(n.Message.Id, n.Message.From.Value, n.Message.Data, n.Message.At));
                break;
            case DeviceNotices.LinkRequested n: Emit(new LinkRequestFrame(n.LinkId, n.DeviceName, n.ExpiresAt)); break;
            case PresenceCommands.DeviceRevoked: Close(CloseCodes.DeviceRemoved, "this device was removed from the account"); break;
            case PresenceCommands.SessionReplaced: CloseReplaced(CloseCodes.SessionReplaced, "replaced by a newer connection of this device"); break;
            case RefreshPresence: OnRefreshPresence(); break;
            case PumpFetches: OnPumpFetches(); break;
            case Status.Failure f: Log.Warning("Connection {0}: {1}", _connectionId, f.Cause.Message); break;
            default:
                if (!OnPresenceRegistration(message)) Unhandled(message);
                break;
        }
    }

    private void OnRefreshPresence()
    {
        if (DateTimeOffset.UtcNow >= _tokenExpiresAt)
        {
            Close(CloseCodes.TokenExpired, "access token expired");
            return;
        }
        if (DateTimeOffset.UtcNow - _lastInbound > TimeSpan.FromSeconds(_settings.IdleTimeoutSeconds))
        {
            Log.Info("Connection {0} of {1}/{2} sent nothing for {3} s; closing it", _connectionId, _user, _device, _settings.IdleTimeoutSeconds);
            Close(CloseCodes.HeartbeatMissed, $"no frame for {_settings.IdleTimeoutSeconds} s; ping every heartbeatSeconds");
            return;
        }
        AnnounceOnline();
        ScheduleRefresh();
    }

    /// <summary>Every connection's name begins with this (<see cref="Presence.MemberDepartures"/> finds them by it).</summary>
    public const string NamePrefix = "conn-";

    /// <summary>A new connection's id: 96 random bits, 16 characters (a GUID's 32 were kept twice on each side of every connection).</summary>
    public static string NewConnectionId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(12));

    public static string NameFor(UserId user, DeviceId device, string connectionId) =>
        $"{NamePrefix}{user.Value}-{device.Value}-{connectionId}";

    public static Props PropsFor(UserId user, DeviceId device, string connectionId, DateTimeOffset tokenExpiresAt,
        IClientOutbound outbound, ChatGateway gateway, IActorRef presence, IActorRef fanout, ConnectionSettings settings) =>
        Props.Create(() => new ConnectionActor(user, device, connectionId, tokenExpiresAt, outbound, gateway, presence, fanout, settings));

    protected override void PreStart()
    {
        Emit(new WelcomeFrame(_user.Value, _device.Value, 1, _settings.HeartbeatSeconds, _settings.MaxFrameBytes, _settings.MaxBodyBytes));
        AnnounceOnline();
        ScheduleRefresh();
    }

    // One timer per connection, a one-shot re-armed as it fires: no cancellation source to keep, and
    // once the actor has stopped its single pending tick is dropped silently. The token's expiry is
    // checked on the same tick, which fires early when the token expires before the next period ends.
    private void ScheduleRefresh()
    {
        var untilExpiry = _tokenExpiresAt - DateTimeOffset.UtcNow;
        var period = TimeSpan.FromSeconds(_settings.HeartbeatSeconds);
        var delay = untilExpiry < period ? (untilExpiry < TimeSpan.Zero ? TimeSpan.Zero : untilExpiry) : period;
        Context.System.Scheduler.ScheduleTellOnce(delay, Self, RefreshPresence.Instance, Self);
    }

    protected override void PostStop()
    {
        _presence.Tell(new PresenceCommands.DeviceOffline(_user, _device, _connectionId, DateTimeOffset.UtcNow));
    }

    private void OnFrame(ClientFrame frame)
    {
        switch (frame)
        {
            case SendFrame s: OnSend(s); break;
            case DeliveredFrame d: AdvanceCursor(d.ChatId, CursorKind.Delivered, d.Seq); break;
            case ReadFrame r: AdvanceCursor(r.ChatId, CursorKind.Read, r.Seq); break;
            case SyncFrame s: OnSync(s); break;
            case OpenChatFrame o: OnOpenChat(o); break;
            case HistoryFrame h: OnHistory(h); break;
            case GroupFrame g: OnGroup(g); break;
            case MessageInfoRequestFrame m: OnMessageInfo(m); break;
            case TypingFrame t: OnTyping(t); break;
            case PresenceRequestFrame p: OnPresence(p); break;
            case LocationFrame l: OnLocation(l); break;
            case LocationStopFrame l when ChatIds.MayBeMember(new ChatId(l.ChatId), _user, out _):
                _gateway.Chats.Tell(new StopLocation(new ChatId(l.ChatId), _user, l.ShareSeq, DateTimeOffset.UtcNow));
                break;
            case LocationStopFrame l: Emit(new ErrorFrame(ErrorCodes.NotMember, "you are not a member of this chat", l.ChatId)); break;
            case PingFrame p:
                Emit(new PongFrame(p.T));
                break;
        }
    }

    private void OnGroup(GroupFrame g)
    {
        var unavailable = Unavailable<GroupOutcome>();
        _gateway.ChangeGroupAsync(_user, _device, new GroupRequest(g.Action, g.GroupId, g.UserIds, g.Name, g.InviteCode), DateTimeOffset.UtcNow)
            .PipeTo(Self, success: r => new GroupResult(g.Rid, r), failure: e => new GroupResult(g.Rid, unavailable(e)));
    }

    private void OnMessageInfo(MessageInfoRequestFrame m)
    {
        var unavailable = Unavailable<MessageReceipts>();
        _gateway.MessageInfoAsync(new ChatId(m.ChatId), _user, m.Seq)
            .PipeTo(Self, success: r => new MessageInfoResult(m.Rid, r), failure: e => new MessageInfoResult(m.Rid, unavailable(e)));
    }

    // Best effort and never stored: a non-member's signal is dropped by the chat.
    private void OnTyping(TypingFrame t)
    {
        if (EphemeralAllowed(t.ChatId, _typing ??= new TokenBucket(_settings.TypingBurst, 1), $"at most {_settings.TypingBurst} typing frames at once, then one a second") is { } chatId)
            _gateway.Chats.Tell(new SignalTyping(chatId, _user, _device, t.State == "typing"));
    }

    private void OnLocation(LocationFrame l)
    {
        if (EphemeralAllowed(l.ChatId, _locations ??= new TokenBucket(_settings.LocationBurst, 1), $"at most {_settings.LocationBurst} location updates at once, then one a second") is { } chatId)
            _gateway.Chats.Tell(new UpdateLocation(chatId, _user, l.ShareSeq, l.Body, DateTimeOffset.UtcNow));
    }

    /// <summary>The chat, if an ephemeral frame for it may go on: the id may name this user and the rate limit allows it.</summary>
    private ChatId? EphemeralAllowed(string chat, TokenBucket limit, string limitMessage)
    {
        var chatId = new ChatId(chat);
        if (!ChatIds.MayBeMember(chatId, _user, out var refusal))
        {
            Emit(new ErrorFrame(refusal.Code, refusal.Message, chat));
            return null;
        }
        if (limit.TryTake(DateTimeOffset.UtcNow)) return chatId;
        Emit(new ErrorFrame(ErrorCodes.RateLimited, limitMessage, chat));
        return null;
    }

    private void OnPresence(PresenceRequestFrame p)
    {
        if (UserId.FromPhoneNumber(p.UserId) is not { } target)
        {
            Emit(new ErrorFrame(ErrorCodes.InvalidField, "'userId' is not a phone number", p.Rid));
            return;
        }
        _presence.Ask<PresenceCommands.PresenceView>(new PresenceCommands.ViewPresence(target, _user), _settings.AskTimeout)
            .PipeTo(Self, success: v => new PresenceResult(p.Rid, target.Value, v), failure: _ => new PresenceResult(p.Rid, target.Value, null));
    }

    /// <summary>Groups' live entries come through this process's fanout, once it has checked membership with the chat.</summary>
    /// <param name="again">Ask even if already subscribed: the fanout may hold an earlier refusal (a former member rejoining).</param>
    private void SubscribeToGroup(ChatId chatId, bool again = false)
    {
        if (chatId.IsGroup && ((_subscribedGroups ??= new()).Add(chatId) || again)) _fanout.Tell(new ChatFanout.Subscribe(chatId, _user, Self));
    }

    private void UnsubscribeFromGroup(ChatId chatId)
    {
        if (_subscribedGroups?.Remove(chatId) == true) _fanout.Tell(new ChatFanout.Unsubscribe(chatId, Self));
    }

    /// <summary>
    /// Everything up to <c>LastSeq</c> is durable (a group fanout's subscription took effect there, or a direct chat has
    /// just learned of this connection): fetch anything up to it this stream lacks.
    /// </summary>
    private void OnChatHead(ChatWatch.ChatHead head)
    {
        var stream = StreamOf(head.ChatId);
        // Raised even before the stream is known: a sync page in flight then fetches on to the head.
        stream.HighestSeen = Math.Max(stream.HighestSeen, head.LastSeq);
        if (!stream.Known) return;
        if (!stream.Fetching && head.LastSeq > stream.Delivered) FetchWhenItFits(head.ChatId, stream);
    }

    private void AdvanceCursor(string chat, CursorKind kind, long seq)
    {
        var chatId = new ChatId(chat);
        if (!ChatIds.MayBeMember(chatId, _user, out var refusal))
        {
            Emit(new ErrorFrame(refusal.Code, refusal.Message, chat));
            return;
        }
        _gateway.Chats.Tell(new ChatCommands.AdvanceCursor(chatId, _user, _device, kind, seq, DateTimeOffset.UtcNow));
    }

    private void OnOpenChat(OpenChatFrame o)
    {
        if (UserId.FromPhoneNumber(o.Peer) is not { } peer)
        {
            Emit(new ErrorFrame(ErrorCodes.InvalidField, "'peer' is not a phone number", o.Rid));
            return;
        }
        var unavailable = Unavailable<ChatId>();
        _gateway.OpenDirectChatAsync(_user, peer, DateTimeOffset.UtcNow)
            .PipeTo(Self, success: r => new OpenChatResult(o.Rid, peer.Value, r),
                failure: e => new OpenChatResult(o.Rid, peer.Value, unavailable(e)));
    }

    private void OnOpenChatResult(OpenChatResult r) =>
        Emit(r.Outcome.Ok
            ? new ChatOpenedFrame(r.Rid, r.Outcome.Value.Value, r.Peer)
            : new ErrorFrame(r.Outcome.ErrorCode!, r.Outcome.ErrorMessage!, r.Rid));

    private void OnHistory(HistoryFrame h)
    {
        var chatId = new ChatId(h.ChatId);
        var unavailable = Unavailable<MessagePage>();
        _gateway.HistoryAsync(chatId, _user, h.Before, h.Limit ?? 50, _device)
            .PipeTo(Self, success: r => new HistoryResult(h.Rid, chatId, r),
                failure: e => new HistoryResult(h.Rid, chatId, unavailable(e)));
    }

    private void OnHistoryResult(HistoryResult r) =>
        Emit(r.Outcome.Ok
            ? new HistoryPageFrame(r.Rid, r.ChatId.Value, r.Outcome.Value!.Messages.Select(m => MessageFrames.Of(m, _user, _device)).ToList(), r.Outcome.Value.HasMore)
            : new ErrorFrame(r.Outcome.ErrorCode!, r.Outcome.ErrorMessage!, r.Rid));

    /// <summary>
    /// The failure half of a gateway request's PipeTo. It runs off the actor's thread, where there is no actor
    /// context to create the (lazy) logger from, so the logger is taken here, on the actor's thread.
    /// </summary>
    private Func<Exception, GatewayResult<T>> Unavailable<T>()
    {
        var log = Log;
        var connectionId = _connectionId;
        return e =>
        {
            log.Warning("Connection {0}: request failed: {1}", connectionId, e.Message);
            return GatewayResult<T>.Fail(ErrorCodes.Unavailable, "the cluster could not answer; retry");
        };
    }

    private void OnSync(SyncFrame s)
    {
        // One sync at a time: a second one starts when the first has answered "synced".
        if (_syncInProgress)
        {
            (_queuedSyncs ??= new()).Enqueue(s);
            return;
        }
        _syncInProgress = true;
        _syncCursors = new Dictionary<ChatId, long>();
        foreach (var (chat, seq) in s.Cursors ?? [])
            _syncCursors[new ChatId(chat)] = Math.Max(0, seq);
        _gateway.Users.Ask<UserReplies.ChatList>(new UserQueries.GetChatList(_user), _settings.AskTimeout)
            .PipeTo(Self, failure: e => new ChatListFailed(e.Message));
    }

    private void OnChatListFailed(ChatListFailed failed)
    {
        if (!_syncInProgress) return;
        Log.Warning("Connection {0}: chat list unavailable for sync: {1}", _connectionId, failed.Reason);
        Emit(new ErrorFrame(ErrorCodes.Unavailable, "the chat list could not be read; sync again"));
        _syncChats = 0;
        _syncPushed = 0;
        CompleteSync();
    }

    private void OnChatList(UserReplies.ChatList list)
    {
        if (!_syncInProgress) return;
        _hasSynced = true;
        _syncPushed = 0;
        _syncSummary = new Dictionary<ChatId, ChatCatchUp>();
        _syncPendingChats = 0;
        _syncChats = list.Chats.Count;
        foreach (var chatId in list.Chats)
        {
            SubscribeToGroup(chatId);
            var stream = StreamOf(chatId);
            // A chat the client names starts at its cursor; others at this device's stored delivered cursor.
            if (_syncCursors!.TryGetValue(chatId, out var cursor))
            {
                stream.Delivered = cursor;
                stream.Known = true;
            }
            else
            {
                stream.Known = false;
            }
            stream.InSync = true;
            _syncPendingChats++;
            if (stream.Fetching) continue; // the fetch under way finishes this chat's part of the sync
            // Fetching from here on, even while it waits in line: live messages only raise HighestSeen meanwhile.
            stream.Fetching = true;
            QueueSyncFetch(chatId);
        }
        if (_syncPendingChats == 0) CompleteSync();
        else PumpSyncFetchQueue();
    }

    private void OnLiveMessage(ChatMessage message)
    {
        // A group entry that came through presence (this user was just added) starts the subscription.
        if (message.Change is null || !message.Change.Ends(_user)) SubscribeToGroup(message.ChatId);
        var stream = StreamOf(message.ChatId);
        if (!stream.Known && !stream.Fetching)
        {
            // No cursor for this chat on this connection yet: start the stream here.
            stream.Known = true;
            stream.Delivered = message.Seq - 1;
        }
        if (stream.Fetching)
        {
            stream.HighestSeen = Math.Max(stream.HighestSeen, message.Seq);
            return;
        }
        if (message.Seq <= stream.Delivered) return;
        if (message.Seq == stream.Delivered + 1)
        {
            Push(stream, message);
            // A head told before the stream started (ChatWatch.ChatHead) may lie beyond this message.
            if (stream.HighestSeen > stream.Delivered) FetchWhenItFits(message.ChatId, stream);
            return;
        }
        // A gap (a message of this chat went another way or was dropped): fetch it before going on.
        stream.HighestSeen = Math.Max(stream.HighestSeen, message.Seq);
        FetchWhenItFits(message.ChatId, stream);
    }

    private void Fetch(ChatId chatId, ChatStream stream, int? limit = null)
    {
        stream.Fetching = true;
        // Pages are paced so that they never fill more than three quarters of the outbound queue (ConnectionActor.Paging.cs).
        var pageLimit = limit ?? PageLimit;
        var reserved = Reserve(pageLimit);
        var after = stream.Known ? stream.Delivered : (long?)null;
        _gateway.Chats.Ask<object>(new GetMessagesAfter(chatId, _user, _device, after, pageLimit), _settings.AskTimeout)
            .PipeTo(Self, success: reply => new FetchResult(chatId, reply, reserved, after),
                failure: e => new FetchResult(chatId, new Status.Failure(e), reserved, after));
    }

    private void OnFetchResult(FetchResult result)
    {
        var stream = StreamOf(result.ChatId);
        stream.Fetching = false;
        Release(result.Reserved);
        ApplyFetchResult(result, stream);
        // This page is no longer in flight: the sync's next chats, and the chats waiting for the budget, may fit now.
        PumpFetchQueues();
    }

    private void ApplyFetchResult(FetchResult result, ChatStream stream)
    {
        if (result.Reply is not MessagePage page)
        {
            if (RetryCatchUp(result.ChatId, stream, result.Reply)) return;
            FinishCatchUpOf(stream);
            var (code, reason) = result.Reply is ChatRejected r
                ? (r.Code, r.Reason)
                : (ErrorCodes.Unavailable, "the chat did not answer in time; sync again");
            Emit(new ErrorFrame(code, reason, result.ChatId.Value));
            // Live messages held back during the failed fetch must not wait for the chat's next message. (Unless a
            // fetch of this chat has started meanwhile: the catch-up finished above may have started one.)
            if (stream.HighestSeen > stream.Delivered && result.Reply is not ChatRejected && !stream.Fetching && !_closing)
            {
                stream.Fetching = true;
                Context.System.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(1), Self, new ContinueFetch(result.ChatId), Self);
            }
            FinishSyncOf(stream);
            return;
        }

        // A sync restarted the stream while this fetch was in flight, below where it asked from (the client has less than
        // this connection had pushed), or from the device's stored cursor: the page would skip what lies between.
        if ((stream.Known ? result.After > stream.Delivered : result.After is not null) && !_closing)
        {
            FetchWhenItFits(result.ChatId, stream);
            return;
        }
        // The chat starts the page where this user's view of it starts (a group member sees it from joining).
        if (!stream.Known || page.After > stream.Delivered)
        {
            stream.Known = true;
            stream.Delivered = page.After;
        }
        // A cursor beyond the end of the chat (a confused client) would hide the next messages.
        if (stream.Delivered > page.LastSeq) stream.Delivered = page.LastSeq;
        foreach (var message in page.Messages)
        {
            // The page holds the chat's messages after Delivered in order; the next is not always Delivered + 1 (a
            // write the journal rejected leaves its seq missing), and waiting for it would fetch this page forever.
            if (message.Seq <= stream.Delivered) continue;
            Push(stream, message, catchUp: stream.InSync);
            if (!stream.InSync) continue;
            _syncPushed++;
            _syncSummary ??= new Dictionary<ChatId, ChatCatchUp>();
            _syncSummary[message.ChatId] = new ChatCatchUp(message.ChatId.Value,
                (_syncSummary.TryGetValue(message.ChatId, out var so) ? so.Count : 0) + 1, message.Seq);
        }
        if (_closing) return;
        if (page.HasMore || stream.HighestSeen > stream.Delivered)
        {
            FetchWhenItFits(result.ChatId, stream);
            return;
        }
        if (stream.InSync)
        {
            ReplayReceipts(result.ChatId, page.Receipts, page.GroupReceipts);
            // A share that is running: where its sharer was last, without waiting for the next update.
            foreach (var live in page.LiveLocations ?? [])
                Emit(new LocationNoticeFrame(result.ChatId.Value, live.ShareSeq, live.User.Value, live.Body, live.At));
        }
        FinishSyncOf(stream);
        FinishCatchUpOf(stream);
    }

    /// <summary>At the end of a chat's catch-up: where the other members stand, for ticks that moved while away.</summary>
    private void ReplayReceipts(ChatId chatId, IReadOnlyList<MemberReceipts>? receipts, GroupReceipts? groupReceipts)
    {
        if (groupReceipts is not null) Emit(new GroupReceiptsFrame(chatId.Value, groupReceipts.DeliveredToAll, groupReceipts.ReadByAll));
        foreach (var member in receipts ?? [])
        {
            if (member.User == _user) continue;
            if (member.DeliveredSeq > 0) Emit(new ReceiptFrame(chatId.Value, member.User.Value, "delivered", member.DeliveredSeq, null));
            if (member.ReadSeq > 0) Emit(new ReceiptFrame(chatId.Value, member.User.Value, "read", member.ReadSeq, null));
        }
    }

    private void FinishSyncOf(ChatStream stream)
    {
        if (!stream.InSync) return;
        stream.InSync = false;
        if (--_syncPendingChats == 0) CompleteSync();
    }

    private void CompleteSync()
    {
        Emit(new SyncedFrame(_syncChats, _syncPushed, _syncSummary?.Values.ToList() ?? []));
        _syncSummary = null;
        _syncCursors = null;
        _syncInProgress = false;
        if (_queuedSyncs?.TryDequeue(out var next) == true) OnSync(next);
    }

    /// <summary>
    /// The ack of a send on this connection. Its live copy will not be written here: the ack told the client its seq
    /// and time, and a copy would be a third frame per send for nothing (protocol §6.3). Only what this connection
    /// acked is held back: a send over REST, or one acked to the device's previous connection, still arrives here.
    /// </summary>
    private void OnAccepted(MessageAccepted accepted)
    {
        Emit(new AckFrame(accepted.ChatId.Value, accepted.ClientMsgId, accepted.Seq, accepted.At, accepted.Duplicate));
        // A resend's copy went out with its original; a copy already pushed (its notice came first) is not held back.
        if (accepted.Duplicate) return;
        if (_streams?.TryGetValue(accepted.ChatId, out var stream) == true && stream.Known && accepted.Seq <= stream.Delivered) return;
        (_ackedHere ??= []).Add((accepted.ChatId, accepted.Seq));
    }

    /// <param name="catchUp">Part of a client's <c>sync</c>: its own messages are sent too (it may have lost them).</param>
    private void Push(ChatStream stream, ChatMessage message, bool catchUp = false)
    {
        stream.Delivered = message.Seq;
        var ackedHere = _ackedHere?.Remove((message.ChatId, message.Seq)) == true;
        if (catchUp || !ackedHere) Emit(MessageFrames.Of(message, _user, _device));
        // Membership is followed in log order: a removal is the last entry a removed member gets live.
        if (message.Change is { } change && change.Ends(_user)) UnsubscribeFromGroup(message.ChatId);
        else if (message.Change is { } started && started.Starts(_user)) SubscribeToGroup(message.ChatId, again: true);
    }

    private ChatStream StreamOf(ChatId chatId)
    {
        var streams = _streams ??= new Dictionary<ChatId, ChatStream>();
        if (!streams.TryGetValue(chatId, out var stream)) streams[chatId] = stream = new ChatStream();
        return stream;
    }

    private void Emit(ServerFrame frame)
    {
        if (_closing) return;
        if (_outbound.TryEnqueue(frame)) return;
        Log.Warning("Connection {0} of {1}/{2} is not keeping up ({3} frames queued); disconnecting it", _connectionId, _user, _device, _outbound.Pending);
        Close(CloseCodes.SlowConsumer, "outbound queue full; reconnect and sync from your cursors");
    }

    private void CloseReplaced(int code, string reason)
    {
        Log.Warning("Connection {0} of {1}/{2} replaced by a newer one", _connectionId, _user, _device);
        Close(code, reason);
    }

    private void Close(int code, string reason)
    {
        if (_closing) return;
        _closing = true;
        _outbound.Close(code, reason);
        Context.Stop(Self);
    }
}
