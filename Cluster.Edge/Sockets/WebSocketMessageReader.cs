using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;

namespace Natter.Cluster.Edge.Sockets;

/// <summary>
/// Reads whole messages from one WebSocket with as little memory held between them as the traffic allows. An idle
/// socket holds no buffer: an empty receive waits for its next frame to begin, and a buffer is rented from the
/// shared pool to read it. A busy socket (frames under <see cref="BusyGap"/> apart) keeps its buffer and reads
/// straight into it, one receive per frame instead of two (an empty receive before every frame cost `direct` up to
/// a fifth of its throughput, docs/benchmarks.md). The buffer starts at 1 KiB (most frames are well under) and
/// grows, up to the limit, only for a message that needs it; a grown buffer goes back after that message.
/// </summary>
public sealed class WebSocketMessageReader(WebSocket socket, int maxMessageBytes) : IDisposable
{
    public enum Outcome { Message, Closed, TooBig }

    private static readonly TimeSpan BusyGap = TimeSpan.FromSeconds(1);
    private const int FirstBufferBytes = 1024;

    private byte[]? _buffer;
    private long _previousMessage;

    /// <summary>
    /// The next message: its type and bytes, valid until the next call. <see cref="Outcome.Closed"/> when the peer
    /// sent a close frame; <see cref="Outcome.TooBig"/> when a message exceeds the limit (the rest is not read).
    /// </summary>
    public async ValueTask<(Outcome Outcome, WebSocketMessageType Type, ReadOnlyMemory<byte> Bytes)> ReadAsync(CancellationToken ct)
    {
        ReleaseIfQuietOrGrown();
        ValueWebSocketReceiveResult result;
        var length = 0;
        if (_buffer is null)
        {
            result = await socket.ReceiveAsync(Memory<byte>.Empty, ct);
            if (result.MessageType == WebSocketMessageType.Close) return (Outcome.Closed, result.MessageType, default);
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(maxMessageBytes, FirstBufferBytes));
        }
        else
        {
            result = await socket.ReceiveAsync(_buffer.AsMemory(0, Math.Min(_buffer.Length, maxMessageBytes)), ct);
            if (result.MessageType == WebSocketMessageType.Close) return (Outcome.Closed, result.MessageType, default);
            length = result.Count;
        }

        while (!result.EndOfMessage)
        {
            var capacity = Math.Min(_buffer.Length, maxMessageBytes);
            if (length == capacity)
            {
                if (capacity == maxMessageBytes) return (Outcome.TooBig, result.MessageType, default);
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_buffer.Length * 2, maxMessageBytes));
                _buffer.AsSpan(0, length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
                capacity = Math.Min(_buffer.Length, maxMessageBytes);
            }
            result = await socket.ReceiveAsync(_buffer.AsMemory(length, capacity - length), ct);
            if (result.MessageType == WebSocketMessageType.Close) return (Outcome.Closed, result.MessageType, default);
            length += result.Count;
        }
        return (Outcome.Message, result.MessageType, _buffer.AsMemory(0, length));
    }

    /// <summary>Before waiting for the next message: a buffer grown for a large one, or one held by a socket that has gone quiet, goes back.</summary>
    private void ReleaseIfQuietOrGrown()
    {
        var now = Stopwatch.GetTimestamp();
        if (_buffer is not null && (_buffer.Length > FirstBufferBytes || Stopwatch.GetElapsedTime(_previousMessage, now) > BusyGap))
            Dispose();
        _previousMessage = now;
    }

    public void Dispose()
    {
        if (_buffer is null) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
    }
}
