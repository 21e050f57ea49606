using System.Net.WebSockets;
using Natter.Cluster.Edge.Sockets;

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
        if (Environment.GetEnvironmentVariable("NATTER_ECHO_HANDSHAKE") == "raw")
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, port,
                listen => listen.Use(next => RawUpgrade.Around(next, EchoAsync))));
        else
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        // Like the Natter edge: no keep-alive timer per socket (the clients ping).
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.MapGet("/health/ready", () => "ok");
        app.Map("/ws", async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest) { context.Response.StatusCode = 400; return; }
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await EchoAsync(socket, context.RequestAborted);
        });
        await app.RunAsync();
    }

    private static async Task EchoAsync(WebSocket socket, CancellationToken ct)
    {
        // The Natter edge's reader, so per-connection memory and per-frame work compare fairly.
        using var reader = new WebSocketMessageReader(socket, int.MaxValue);
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var (outcome, type, bytes) = await reader.ReadAsync(ct);
                if (outcome == WebSocketMessageReader.Outcome.Closed)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", default);
                    return;
                }
                await socket.SendAsync(bytes, type, true, ct);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException) { }
    }
}
