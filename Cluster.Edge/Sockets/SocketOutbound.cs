using System.Net.WebSockets;
using System.Text.Json;
using Natter.Actors.Connections;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge.Sockets;

/// <summary>
/// The bounded outbound queue of one socket, written one frame at a time (a WebSocket allows one send at a
/// time). A frame queued to an idle socket is written at once on the caller's thread (the ConnectionActor's),
/// which costs no hand-off to another thread; only a send that has to wait for the socket continues on the
/// pool, and it then drains whatever queued meanwhile. An idle socket holds no queue, no parked loop and no
/// timer: an edge holds many of them.
/// </summary>
public sealed class SocketOutbound(WebSocket socket, int capacity, ILogger logger) : IClientOutbound
{
    // A client that stopped reading could hold a close open forever, so a close gives the flush a deadline.
    private static readonly TimeSpan FlushOnCloseLimit = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private Queue<ServerFrame>? _waiting; // frames queued while a send runs; created on first need
    private bool _writing;
    private bool _completed; // no more frames are taken
    private bool _failed; // a send failed: the socket is gone
    private (int Code, string Reason)? _close;
    private TaskCompletionSource? _drained; // created only when someone waits for the writer to finish
    private CancellationTokenSource? _closeDeadline;

    public int Capacity => capacity;

    public int Pending
    {
        get
        {
            lock (_gate) return _waiting?.Count ?? 0;
        }
    }

    public bool TryEnqueue(ServerFrame frame)
    {
        lock (_gate)
        {
            if (_failed) return true; // the socket is gone; its read loop is ending the connection
            if (_completed) return false;
            if (_writing)
            {
                _waiting ??= new Queue<ServerFrame>();
                if (_waiting.Count >= capacity) return false;
                _waiting.Enqueue(frame);
                return true;
            }
            _writing = true;
        }
        _ = WriteAsync(frame);
        return true;
    }

    public void Close(int closeCode, string reason)
    {
        lock (_gate)
        {
            if (_completed) return;
            _completed = true;
            _close = (closeCode, reason);
            _closeDeadline = new CancellationTokenSource(FlushOnCloseLimit);
            // Past the deadline a send stuck on a client that stopped reading is ended with the socket.
            _closeDeadline.Token.UnsafeRegister(static s => ((WebSocket)s!).Abort(), socket);
            if (_writing) return; // the running writer closes once it has drained
            _writing = true;
        }
        _ = WriteAsync(null);
    }

    /// <summary>
    /// Takes no more frames and returns when what is queued has been written (the socket is already closing,
    /// so no close frame of ours follows).
    /// </summary>
    public Task CompleteAsync()
    {
        lock (_gate)
        {
            _completed = true;
            if (!_writing) return Task.CompletedTask;
            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }

    /// <summary>Writes <paramref name="first"/> (if any), then what queued meanwhile, then the close if one was asked for.</summary>
    private async Task WriteAsync(ServerFrame? first)
    {
        var frame = first;
        try
        {
            while (true)
            {
                if (frame is not null)
                {
                    var bytes = JsonSerializer.SerializeToUtf8Bytes(frame, ProtocolJson.Options);
                    await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                }
                (int Code, string Reason) close;
                lock (_gate)
                {
                    if (_waiting is { Count: > 0 } waiting)
                    {
                        frame = waiting.Dequeue();
                        continue;
                    }
                    _waiting = null; // a burst's queue is not kept for an idle socket
                    if (_close is null)
                    {
                        Finish();
                        return;
                    }
                    close = _close.Value;
                }
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    await socket.CloseAsync((WebSocketCloseStatus)close.Code, close.Reason, CancellationToken.None);
                break;
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            logger.LogDebug("Socket writer stopped: {Reason}", e.Message);
            Fail();
        }
        catch (Exception e)
        {
            logger.LogError(e, "Socket writer failed; aborting the socket");
            socket.Abort(); // ends the read loop too
            Fail();
        }
        _closeDeadline?.Dispose();
        lock (_gate) Finish();
    }

    /// <summary>After a failed send nothing more can be written; later frames are dropped.</summary>
    private void Fail()
    {
        lock (_gate)
        {
            _failed = true;
            _completed = true;
            _waiting = null;
        }
    }

    /// <summary>The writer ends (under the lock, so a frame queued after it starts a new one).</summary>
    private void Finish()
    {
        _writing = false;
        _drained?.TrySetResult();
    }
}
