using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Natter.Actors.Connections;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge.Sockets;

/// <summary>
/// The bounded outbound queue of one socket and the loop that drains it. Frames are serialized here,
/// off the actor, and written one at a time (a WebSocket allows one send at a time).
/// </summary>
public sealed class SocketOutbound(WebSocket socket, int capacity, ILogger logger) : IClientOutbound
{
    private readonly Channel<ServerFrame> _queue = Channel.CreateBounded<ServerFrame>(
        new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private (int Code, string Reason)? _close;
    // The writer's one token (no linked sources: an edge holds many idle sockets). A client that stopped
    // reading could hold a close open forever, so a close gives the flush a deadline.
    private readonly CancellationTokenSource _abort = new();
    private static readonly TimeSpan FlushOnCloseLimit = TimeSpan.FromSeconds(10);

    public bool TryEnqueue(ServerFrame frame) => _queue.Writer.TryWrite(frame);

    public int Pending => _queue.Reader.Count;

    public int Capacity => capacity;

    public void Close(int closeCode, string reason)
    {
        _close = (closeCode, reason);
        _queue.Writer.TryComplete();
        _abort.CancelAfter(FlushOnCloseLimit);
    }

    /// <summary>Ends the loop without a close frame of ours (the socket is already closing).</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Stops a writer that is still stuck on a socket whose reading side has ended.</summary>
    public void Abort() => _abort.Cancel();

    public async Task RunAsync()
    {
        var cancellationToken = _abort.Token;
        try
        {
            await foreach (var frame in _queue.Reader.ReadAllAsync(cancellationToken))
            {
                var bytes = JsonSerializer.SerializeToUtf8Bytes(frame, ProtocolJson.Options);
                await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
            if (_close is { } close && socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await socket.CloseAsync((WebSocketCloseStatus)close.Code, close.Reason, cancellationToken);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            logger.LogDebug("Socket writer stopped: {Reason}", e.Message);
            if (_abort.IsCancellationRequested) socket.Abort(); // ends the read loop too
        }
        catch (Exception e)
        {
            logger.LogError(e, "Socket writer failed; aborting the socket");
            socket.Abort();
        }
    }
}
