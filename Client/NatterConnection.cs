using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Natter.Messages.Protocol;

namespace Natter.Client;

/// <summary>
/// One device's WebSocket to Natter (protocol v1). Requests that have an answer (send, open_chat, history,
/// ping) return tasks; every server frame is also readable from <see cref="Frames"/>, and messages are
/// collected, deduplicated, in <see cref="Received"/>.
/// </summary>
public sealed class NatterConnection : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    // Requests answered by their rid (open_chat, history, group, message_info, presence).
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ServerFrame>> _requests = new();
    // Sends not answered yet, by chat and clientMsgId (unique only within a chat). Kept until the ack or error
    // arrives, even after the caller stopped waiting: the server pushes no copy of a message to the connection
    // that sent it, so a late ack is still this device's own message. A send the server never answers (its node
    // died) stays until a resend with the same clientMsgId is answered or the connection closes.
    private readonly ConcurrentDictionary<(string ChatId, string ClientMsgId), PendingSend> _sends = new();
    private volatile bool _closed;
    private readonly Channel<ServerFrame> _frames = Channel.CreateUnbounded<ServerFrame>();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<WelcomeFrame> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<SyncedFrame> _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _syncing;
    private readonly Task _readLoop;
    private long _nextRid;
    private long _nextRoundTrip;
    private Exception? _readFault;

    private NatterConnection(ClientWebSocket socket, ReceivedMessages received)
    {
        _socket = socket;
        Received = received;
        _readLoop = Task.Run(ReadLoopAsync);
    }

    public ChannelReader<ServerFrame> Frames => _frames.Reader;

    /// <summary>Called on the read loop for every frame, before it is queued on <see cref="Frames"/>.</summary>
    public event Action<ServerFrame>? FrameReceived;

    /// <summary>Queue frames on <see cref="Frames"/> (default). Load generators that never read them turn it off.</summary>
    public bool KeepFrames { get; set; } = true;
    public ReceivedMessages Received { get; }
    public WelcomeFrame Welcome { get; private set; } = null!;
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;
    public string? CloseDescription => _socket.CloseStatusDescription;
    public Task Closed => _readLoop;

    /// <summary>Opens /ws with the device's token; completes once the server's welcome frame arrived.</summary>
    /// <param name="invoker">Optional HTTP stack for the upgrade, e.g. one that binds a chosen local address.</param>
    /// <param name="heartbeat">Ping every heartbeat period (default). Off only to test how the server treats silent clients.</param>
    public static async Task<NatterConnection> ConnectAsync(Uri baseAddress, string accessToken,
        ReceivedMessages? received = null, CancellationToken ct = default, HttpMessageInvoker? invoker = null, bool heartbeat = true)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {accessToken}");
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var ws = new UriBuilder(baseAddress) { Scheme = baseAddress.Scheme == "https" ? "wss" : "ws", Path = "/ws" }.Uri;
        if (invoker is null) await socket.ConnectAsync(ws, ct);
        else await socket.ConnectAsync(ws, invoker, ct);
        var connection = new NatterConnection(socket, received ?? new ReceivedMessages());
        connection.Welcome = await connection._welcome.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        if (heartbeat) _ = connection.HeartbeatAsync(TimeSpan.FromSeconds(connection.Welcome.HeartbeatSeconds));
        return connection;
    }

    /// <summary>Pings every heartbeat period, as the server asks: a connection that sends nothing is closed (4002).</summary>
    private async Task HeartbeatAsync(TimeSpan period)
    {
        try
        {
            while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
            {
                await Task.Delay(period, _stop.Token);
                await PingAsync(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // The connection is closing.
        }
    }

    /// <summary>Sends a message and returns the server's ack, which means it is durable.</summary>
    /// <param name="media">An uploaded blob this message carries.</param>
    /// <param name="liveLocation">Starts a live-location share; send positions with <see cref="LocationAsync"/>.</param>
    /// <param name="envelopes">For an end-to-end encrypted body: its content key sealed for every recipient device.</param>
    public async Task<AckFrame> SendAsync(string chatId, string clientMsgId, byte[] body, CancellationToken ct = default, MediaFrame? media = null,
        LiveLocationRequest? liveLocation = null, IReadOnlyList<EnvelopeFrame>? envelopes = null) =>
        (AckFrame)await SendRequestAsync(
            new SendFrame { ChatId = chatId, ClientMsgId = clientMsgId, Body = body, Media = media, LiveLocation = liveLocation, Envelopes = envelopes }, ct);

    /// <summary>A new position for this user's live-location share started by message <paramref name="shareSeq"/>.</summary>
    public Task LocationAsync(string chatId, long shareSeq, byte[] position, CancellationToken ct = default) =>
        WriteAsync(new LocationFrame { ChatId = chatId, ShareSeq = shareSeq, Body = position }, ct);

    public Task StopLocationAsync(string chatId, long shareSeq, CancellationToken ct = default) =>
        WriteAsync(new LocationStopFrame { ChatId = chatId, ShareSeq = shareSeq }, ct);

    /// <summary>Sends without waiting; the ack (or error) arrives on <see cref="Frames"/> and completes the returned task.</summary>
    public Task<ServerFrame> SendPipelinedAsync(string chatId, string clientMsgId, byte[] body, CancellationToken ct = default,
        IReadOnlyList<EnvelopeFrame>? envelopes = null) =>
        SendRequestAsync(new SendFrame { ChatId = chatId, ClientMsgId = clientMsgId, Body = body, Envelopes = envelopes }, ct);

    public async Task<string> OpenChatAsync(string peer, CancellationToken ct = default)
    {
        var rid = NextRid();
        var opened = (ChatOpenedFrame)await RequestAsync(rid, new OpenChatFrame { Rid = rid, Peer = peer }, ct);
        return opened.ChatId;
    }

    public async Task<HistoryPageFrame> HistoryAsync(string chatId, long? before = null, int? limit = null, CancellationToken ct = default)
    {
        var rid = NextRid();
        return (HistoryPageFrame)await RequestAsync(rid, new HistoryFrame { Rid = rid, ChatId = chatId, Before = before, Limit = limit }, ct);
    }

    /// <summary>Asks for everything after the cursors (default: what <see cref="Received"/> holds); completes on "synced".</summary>
    public async Task<SyncedFrame> SyncAsync(Dictionary<string, long>? cursors = null, CancellationToken ct = default)
    {
        // One "synced" answers one sync: two at once could not tell whose summary is whose.
        if (Interlocked.Exchange(ref _syncing, 1) == 1)
            throw new InvalidOperationException("a sync is already running on this connection; await it first");
        try { return await SyncOnceAsync(cursors, ct); }
        finally { Volatile.Write(ref _syncing, 0); }
    }

    private async Task<SyncedFrame> SyncOnceAsync(Dictionary<string, long>? cursors, CancellationToken ct)
    {
        _synced = new TaskCompletionSource<SyncedFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        var sent = cursors ?? Received.Cursors();
        await WriteAsync(new SyncFrame { Cursors = sent }, ct);
        var synced = await _synced.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
        // From its own cursors, a catch-up pushed everything up to its last seq: a seq it skipped does not exist.
        if (cursors is null) Received.CaughtUp(sent.Keys, synced.Summary ?? []);
        return synced;
    }

    /// <summary>Creates or changes a group (actions as in docs/protocol.md); throws <see cref="NatterApiException"/> on refusal.</summary>
    public async Task<GroupResultFrame> GroupAsync(string action, string? groupId = null, IReadOnlyList<string>? userIds = null,
        string? name = null, string? inviteCode = null, CancellationToken ct = default)
    {
        var rid = NextRid();
        return (GroupResultFrame)await RequestAsync(rid, new GroupFrame
        {
            Rid = rid, Action = action, GroupId = groupId, UserIds = userIds, Name = name, InviteCode = inviteCode,
        }, ct);
    }

    /// <summary>Who of the chat's members has received and read message <paramref name="seq"/>.</summary>
    public async Task<MessageInfoFrame> MessageInfoAsync(string chatId, long seq, CancellationToken ct = default)
    {
        var rid = NextRid();
        return (MessageInfoFrame)await RequestAsync(rid, new MessageInfoRequestFrame { Rid = rid, ChatId = chatId, Seq = seq }, ct);
    }

    /// <summary>Tells the chat's other members this user is typing (or stopped). Never stored; rate limited by the server.</summary>
    public Task TypingAsync(string chatId, bool typing = true, CancellationToken ct = default) =>
        WriteAsync(new TypingFrame { ChatId = chatId, State = typing ? "typing" : "paused" }, ct);

    /// <summary>Another user's presence, as their privacy setting lets this user see it.</summary>
    public async Task<PresenceFrame> PresenceAsync(string userId, CancellationToken ct = default)
    {
        var rid = NextRid();
        return (PresenceFrame)await RequestAsync(rid, new PresenceRequestFrame { Rid = rid, UserId = userId }, ct);
    }

    public Task MarkDeliveredAsync(string chatId, long seq, CancellationToken ct = default) =>
        WriteAsync(new DeliveredFrame { ChatId = chatId, Seq = seq }, ct);

    public Task MarkReadAsync(string chatId, long seq, CancellationToken ct = default) =>
        WriteAsync(new ReadFrame { ChatId = chatId, Seq = seq }, ct);

    public Task PingAsync(long t, CancellationToken ct = default) => WriteAsync(new PingFrame { T = t }, ct);

    /// <summary>
    /// A ping and its pong: once it returns, every frame the server had queued for this connection before the
    /// ping has arrived (one connection's frames keep their order). Frames before the pong are skipped on
    /// <see cref="Frames"/>; messages are still collected in <see cref="Received"/>.
    /// </summary>
    public async Task RoundTripAsync(TimeSpan? timeout = null)
    {
        var t = -Interlocked.Increment(ref _nextRoundTrip);
        await PingAsync(t);
        await NextAsync<PongFrame>(p => p.T == t, timeout);
    }

    /// <summary>Sends raw text, for tests of how the server answers bad input.</summary>
    public async Task SendRawAsync(string text, CancellationToken ct = default) => await SendBytesAsync(Encoding.UTF8.GetBytes(text), ct);

    public async Task SendBytesAsync(byte[] bytes, CancellationToken ct = default, WebSocketMessageType type = WebSocketMessageType.Text)
    {
        await _sendLock.WaitAsync(ct);
        try { await _socket.SendAsync(bytes, type, true, ct); }
        finally { _sendLock.Release(); }
    }

    /// <summary>The next frame of type <typeparamref name="T"/> matching <paramref name="match"/>, skipping others.</summary>
    public async Task<T> NextAsync<T>(Func<T, bool>? match = null, TimeSpan? timeout = null) where T : ServerFrame
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            ServerFrame frame;
            try { frame = await _frames.Reader.ReadAsync(cts.Token); }
            catch (ChannelClosedException)
            {
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely,
                    $"connection closed while waiting for {typeof(T).Name}: {DescribeClose()}");
            }
            if (frame is T typed && (match is null || match(typed))) return typed;
        }
    }

    private string DescribeClose() =>
        _socket.CloseStatus is { } status ? $"closed by the server with {(int)status} '{_socket.CloseStatusDescription}'"
        : _readFault is { } fault ? $"{fault.GetType().Name}: {fault.Message}"
        : $"socket {_socket.State}";

    private string NextRid() => $"r{Interlocked.Increment(ref _nextRid)}";

    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    private async Task<ServerFrame> RequestAsync(string rid, ClientFrame frame, CancellationToken ct)
    {
        var answer = new TaskCompletionSource<ServerFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests[rid] = answer;
        try
        {
            await WriteAsync(frame, ct);
            return Unwrap(await answer.Task.WaitAsync(AnswerTimeout, ct));
        }
        finally
        {
            _requests.TryRemove(new KeyValuePair<string, TaskCompletionSource<ServerFrame>>(rid, answer));
        }
    }

    /// <summary>A send and its answer. A resend of a send still pending waits for the same answer.</summary>
    private async Task<ServerFrame> SendRequestAsync(SendFrame send, CancellationToken ct)
    {
        var key = (send.ChatId, send.ClientMsgId);
        PendingSend pending;
        do pending = _sends.GetOrAdd(key, _ => new PendingSend(send));
        while (!pending.TryWrite());
        if (_closed) pending.Answer.TrySetException(new WebSocketException("connection closed"));
        try
        {
            await WriteAsync(send, ct);
            pending.Sent();
        }
        catch
        {
            if (pending.StopWaiting()) _sends.TryRemove(new KeyValuePair<(string, string), PendingSend>(key, pending));
            throw;
        }
        try
        {
            return Unwrap(await pending.Answer.Task.WaitAsync(AnswerTimeout, ct));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Still pending for a late ack, but no longer a write whose error someone waits for.
            pending.StopWaiting();
            throw;
        }
    }

    private static ServerFrame Unwrap(ServerFrame reply) =>
        reply is ErrorFrame error ? throw new NatterApiException(error.Code, error.Message, null, error.Missing, error.Extra, changed: error.Changed) : reply;

    /// <summary>
    /// One clientMsgId in one chat, written once or more (resends). An ack answers every write of it: the message
    /// is stored. An error answers it too, unless another write whose caller still waits may yet be acked: a resend
    /// refused (say, after its sender left the group) says nothing about an earlier write that the chat stored.
    /// A write whose caller stopped waiting (its timeout or token) no longer counts, so a write the server never
    /// answered (its node died) does not hold back the error of a later resend.
    /// </summary>
    private sealed class PendingSend(SendFrame frame)
    {
        private readonly Lock _gate = new();
        private int _waiting; // writes whose callers still wait for the answer
        private bool _sent; // a write went out, so an ack may still come
        private bool _done;

        public SendFrame Frame { get; } = frame;
        public TaskCompletionSource<ServerFrame> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Counts one more write; false once this entry is answered (take a new one).</summary>
        public bool TryWrite()
        {
            lock (_gate)
            {
                if (_done) return false;
                _waiting++;
                return true;
            }
        }

        public void Sent()
        {
            lock (_gate) _sent = true;
        }

        /// <summary>A caller stopped waiting; true if nothing of this send went out and nobody waits: drop it.</summary>
        public bool StopWaiting()
        {
            lock (_gate)
            {
                if (_done) return false;
                _waiting--;
                _done = _waiting == 0 && !_sent;
                return _done;
            }
        }

        /// <summary>An error for one of its writes; true if it answers the send (no other waiting write may be acked).</summary>
        public bool Refused()
        {
            lock (_gate)
            {
                if (_done) return false;
                if (_waiting > 1)
                {
                    _waiting--;
                    return false;
                }
                _done = true;
                return true;
            }
        }

        /// <summary>The ack: every write is answered.</summary>
        public void Acked()
        {
            lock (_gate) _done = true;
        }
    }

    private Task WriteAsync(ClientFrame frame, CancellationToken ct) =>
        SendBytesAsync(JsonSerializer.SerializeToUtf8Bytes(frame, ProtocolJson.Options), ct);

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[16 * 1024];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                if (!await WebSocketMessages.ReadAsync(_socket, buffer, message, _stop.Token)) return;

                ServerFrame? frame;
                try { frame = JsonSerializer.Deserialize<ServerFrame>(message.GetBuffer().AsSpan(0, (int)message.Length), ProtocolJson.Options); }
                catch (JsonException) { continue; } // a frame type newer than this client: skipped, as the protocol asks
                if (frame is not null) Dispatch(frame);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The socket is gone; Closed completes and pending requests fail below.
            _readFault = e;
        }
        finally
        {
            _frames.Writer.TryComplete();
            // A send registered after this flag fails on its own; one registered before is failed here.
            _closed = true;
            foreach (var request in _requests.Values) request.TrySetException(new WebSocketException("connection closed"));
            foreach (var (_, send) in _sends) send.Answer.TrySetException(new WebSocketException("connection closed"));
            _welcome.TrySetException(new WebSocketException("connection closed before welcome"));
            _synced.TrySetException(new WebSocketException("connection closed before synced"));
        }
    }

    private void Dispatch(ServerFrame frame)
    {
        switch (frame)
        {
            case WelcomeFrame w: _welcome.TrySetResult(w); break;
            case MessageFrame m: Received.Add(m); break;
            case SyncedFrame s: _synced.TrySetResult(s); break;
            case AckFrame a: Acked(a); break;
            case ChatOpenedFrame o when o.Rid is not null: Complete(o.Rid, o); break;
            case HistoryPageFrame h when h.Rid is not null: Complete(h.Rid, h); break;
            case GroupResultFrame g when g.Rid is not null: Complete(g.Rid, g); break;
            case MessageInfoFrame i when i.Rid is not null: Complete(i.Rid, i); break;
            case PresenceFrame p when p.Rid is not null: Complete(p.Rid, p); break;
            case ErrorFrame { Ref: { } reference } e: Refused(reference, e); break;
        }
        FrameReceived?.Invoke(frame);
        if (KeepFrames) _frames.Writer.TryWrite(frame);
    }

    private MessageFrame OwnMessage(SendFrame sent, AckFrame ack) =>
        new(ack.ChatId, ack.Seq, Welcome.UserId, Welcome.DeviceId, sent.ClientMsgId, sent.Body, ack.Ts,
            Media: sent.Media,
            // The edge fixes the end from its own clock as the send arrives: within moments of this.
            LiveLocation: sent.LiveLocation is { } live ? new LiveLocationFrame(ack.Ts.AddSeconds(live.DurationSeconds)) : null,
            Sealed: sent.Envelopes is not null);

    private void Acked(AckFrame ack)
    {
        // A second ack of a resend finds nothing: the first one answered both.
        if (!_sends.TryRemove((ack.ChatId, ack.ClientMsgId), out var sent)) return;
        sent.Acked();
        // This device's own message, as the other devices get it, held before the send's task completes.
        Received.AddOwn(OwnMessage(sent.Frame, ack));
        sent.Answer.TrySetResult(ack);
    }

    private void Complete(string rid, ServerFrame frame)
    {
        if (_requests.TryRemove(rid, out var answer)) answer.TrySetResult(frame);
    }

    /// <summary>
    /// An error answers a send when it names the send's chat; otherwise a request by its rid, or else the one
    /// send pending with that clientMsgId (a frame whose chat could not be read).
    /// </summary>
    private void Refused(string reference, ErrorFrame error)
    {
        if (error.ChatId is { } chat)
        {
            RefuseSend((chat, reference), error);
            return;
        }
        if (_requests.TryRemove(reference, out var request))
        {
            request.TrySetResult(error);
            return;
        }
        (string, string)? only = null;
        foreach (var (key, _) in _sends)
        {
            if (key.ClientMsgId != reference) continue;
            if (only is not null) return; // sends in two chats: the error cannot say which
            only = key;
        }
        if (only is { } unnamed) RefuseSend(unnamed, error);
    }

    private void RefuseSend((string ChatId, string ClientMsgId) key, ErrorFrame error)
    {
        if (!_sends.TryGetValue(key, out var send) || !send.Refused()) return;
        _sends.TryRemove(new KeyValuePair<(string, string), PendingSend>(key, send));
        send.Answer.TrySetResult(error);
    }

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        }
        await _stop.CancelAsync();
        await _readLoop.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _socket.Dispose();
        _stop.Dispose();
    }
}
