using System.Buffers;
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
            // The Natter edge's read strategy, so per-connection memory compares fairly: an empty receive waits
            // for a frame, then a buffer (1 KiB at first) is rented from the shared pool while it is read.
            try
            {
                while (socket.State == WebSocketState.Open)
                {
                    var result = await socket.ReceiveAsync(Memory<byte>.Empty, context.RequestAborted);
                    var buffer = ArrayPool<byte>.Shared.Rent(1024);
                    try
                    {
                        var length = 0;
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
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        });
        await app.RunAsync();
    }
}
