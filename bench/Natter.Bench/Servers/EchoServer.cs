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
            // The same 1 KiB first read buffer the Natter edge uses, so per-connection memory compares fairly.
            var buffer = new byte[1024];
            try
            {
                while (socket.State == WebSocketState.Open)
                {
                    var length = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                        result = await socket.ReceiveAsync(buffer.AsMemory(length), context.RequestAborted);
                        length += result.Count;
                    } while (!result.EndOfMessage);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", default);
                        return;
                    }
                    await socket.SendAsync(buffer.AsMemory(0, length), result.MessageType, true, context.RequestAborted);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        });
        await app.RunAsync();
    }
}
