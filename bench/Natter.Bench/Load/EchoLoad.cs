using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.WebSockets;
using Natter.Bench.Report;

namespace Natter.Bench.Load;

/// <summary>The same shape of load against the raw echo server: windowed sends, round trip per frame.</summary>
public static class EchoLoad
{
    public static async Task<ClientWebSocket[]> ConnectAsync(Uri server, int clients, LocalAddresses addresses)
    {
        var uri = new UriBuilder(server) { Scheme = "ws", Path = "/ws" }.Uri;
        using var gate = new SemaphoreSlim(32);
        return await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                var socket = new ClientWebSocket();
                socket.Options.KeepAliveInterval = TimeSpan.Zero;
                await socket.ConnectAsync(uri, addresses.NextInvoker(), CancellationToken.None);
                return socket;
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    public static int FrameBytesFor(int bodyBytes) => 120 + (Math.Max(8, bodyBytes) + 2) / 3 * 4;

    public static async Task<LoadOutcome> RunAsync(IReadOnlyList<ClientWebSocket> sockets, int perClient, int window, int bodyBytes)
    {
        var latency = new LatencyRecorder();
        long echoed = 0;
        var started = Stopwatch.StartNew();
        await Task.WhenAll(sockets.Select(async socket =>
        {
            using var slots = new SemaphoreSlim(window);
            var receiver = Task.Run(async () =>
            {
                var buffer = new byte[FrameBytesFor(bodyBytes)];
                for (var received = 0; received < perClient; received++)
                {
                    var length = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                        length += result.Count;
                    } while (!result.EndOfMessage);
                    latency.RecordSince(BinaryPrimitives.ReadInt64LittleEndian(buffer));
                    Interlocked.Increment(ref echoed);
                    slots.Release();
                }
            });
            // About the size of a Natter send frame carrying the same body (JSON and base64 overhead).
            var frame = new byte[FrameBytesFor(bodyBytes)];
            for (var i = 0; i < perClient; i++)
            {
                await slots.WaitAsync();
                BinaryPrimitives.WriteInt64LittleEndian(frame, Stopwatch.GetTimestamp());
                await socket.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None);
            }
            await receiver;
        }));
        return new LoadOutcome(echoed, 0, sockets.Count * (long)perClient - echoed, 0, 0, started.Elapsed, latency.Percentiles())
        {
            Recorder = latency,
        };
    }
}
