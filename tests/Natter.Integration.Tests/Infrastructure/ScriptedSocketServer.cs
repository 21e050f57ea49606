using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Natter.Integration.Tests.Infrastructure;

/// <summary>
/// A WebSocket server on 127.0.0.1 whose answers the spec writes frame by frame: for client behaviour that the
/// real server produces only by timing (an error for a resend before the ack of the first write, say). It sends a
/// welcome, then hands over what the client sends and sends what the spec says, in that order.
/// </summary>
public sealed class ScriptedSocketServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<JsonElement> _received = Channel.CreateUnbounded<JsonElement>();
    private readonly TaskCompletionSource<WebSocket> _socket = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ScriptedSocketServer(WebApplication app) => _app = app;

    public Uri BaseAddress => new(_app.Urls.First());

    public static async Task<ScriptedSocketServer> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ScriptedSocketServer(app);
        app.UseWebSockets();
        app.Map("/ws", async (HttpContext context) =>
        {
            var socket = await context.WebSockets.AcceptWebSocketAsync();
            await Send(socket, """{"type":"welcome","userId":"15550000001","deviceId":1,"protocol":1,"heartbeatSeconds":30,"maxFrameBytes":1048576,"maxBodyBytes":65536}""");
            server._socket.SetResult(socket);
            await server.ReadAsync(socket);
        });
        await app.StartAsync();
        return server;
    }

    /// <summary>The next frame the client sent, as JSON, skipping its heartbeat pings.</summary>
    public async Task<JsonElement> NextFromClientAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var frame = await _received.Reader.ReadAsync(timeout.Token);
            if (frame.GetProperty("type").GetString() != "ping") return frame;
        }
    }

    /// <summary>Sends one frame to the client.</summary>
    public async Task SendAsync(string json) => await Send(await _socket.Task.WaitAsync(TimeSpan.FromSeconds(10)), json);

    private static Task Send(WebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);

    private async Task ReadAsync(WebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (socket.State == WebSocketState.Open && await Natter.Client.WebSocketMessages.ReadAsync(socket, buffer, message, CancellationToken.None))
                _received.Writer.TryWrite(JsonDocument.Parse(message.GetBuffer().AsMemory(0, (int)message.Length)).RootElement.Clone());
        }
        catch (WebSocketException) { /* the client went away */ }
    }

    public async ValueTask DisposeAsync()
    {
        // A socket the client left open would hold the server's stop. One the client closed has ended its request,
        // and aborting it then throws ObjectDisposedException: there is nothing left to stop.
        if (_socket.Task.IsCompletedSuccessfully && _socket.Task.Result.State == WebSocketState.Open)
        {
            try { _socket.Task.Result.Abort(); }
            catch (ObjectDisposedException) { /* the client closed it between the check and the abort: already over */ }
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
