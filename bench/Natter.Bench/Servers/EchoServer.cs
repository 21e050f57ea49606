using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;

namespace Natter.Bench.Servers;

/// <summary>
/// The baseline: raw Kestrel echoing every WebSocket message, nothing else. Run as its own process
/// (`Natter.Bench serve-echo --port N`) so it is measured like the Natter server is.
/// </summary>
public static class EchoServer
{
    public static async Task RunAsync(int port)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.UseWebSockets();
        app.MapGet("/health/ready", () => "ok");
        app.Map("/ws", async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest) { context.Response.StatusCode = 400; return; }
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            // The Natter edge's read strategy (ClientSocketHandler), so per-connection memory and per-frame work
            // compare fairly: an idle socket waits with an empty receive and rents a buffer (1 KiB at first) only
            // to read a frame; a busy one (frames under a second apart) keeps its buffer between frames.
            byte[]? buffer = null;
            var previousFrame = 0L;
            try
            {
                while (socket.State == WebSocketState.Open)
                {
                    ValueWebSocketReceiveResult result;
                    var length = 0;
                    if (buffer is null)
                    {
                        result = await socket.ReceiveAsync(Memory<byte>.Empty, context.RequestAborted);
                        buffer = ArrayPool<byte>.Shared.Rent(1024);
                    }
                    else
                    {
                        result = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted);
                        length = result.Count;
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close)
                    {
                        if (length == buffer.Length)
                        {
                            var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                            buffer.AsSpan(0, length).CopyTo(bigger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = bigger;
                        }
                        result = await socket.ReceiveAsync(buffer.AsMemory(length), context.RequestAborted);
                        length += result.Count;
                    }
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", default);
                        return;
                    }
                    await socket.SendAsync(buffer.AsMemory(0, length), result.MessageType, true, context.RequestAborted);
                    var now = Stopwatch.GetTimestamp();
                    if (buffer.Length > 1024 || Stopwatch.GetElapsedTime(previousFrame, now) > TimeSpan.FromSeconds(1))
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                    }
                    previousFrame = now;
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
            finally
            {
                if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            }
        });
        await app.RunAsync();
    }
}
