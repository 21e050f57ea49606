using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Natter.Cluster.Edge.Sockets;
using Natter.Messages.Protocol;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// The edge's outbound queue on a real WebSocket over loopback TCP: frames written at once to an idle
/// socket, queued in order behind a send that waits for a client that is not reading, refused past the
/// capacity, and flushed before a close.
/// </summary>
public sealed class SocketOutboundSpecs : IAsyncDisposable
{
    private const int Capacity = 64;
    // Big enough that a handful of them fill the socket buffers while the client does not read.
    private static readonly string Padding = new('x', 256 * 1024);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private WebSocket _server = null!;
    private WebSocket _client = null!;

    private async Task ConnectAsync()
    {
        _listener.Start();
        var clientTcp = new TcpClient();
        var accepting = _listener.AcceptTcpClientAsync();
        await clientTcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port);
        var serverTcp = await accepting;
        // Small kernel buffers: a client that does not read blocks the server's sends soon.
        serverTcp.SendBufferSize = 16 * 1024;
        clientTcp.ReceiveBufferSize = 16 * 1024;
        _server = WebSocket.CreateFromStream(serverTcp.GetStream(), new WebSocketCreationOptions { IsServer = true });
        _client = WebSocket.CreateFromStream(clientTcp.GetStream(), new WebSocketCreationOptions { IsServer = false });
    }

    [Fact]
    public async Task Frames_queued_behind_a_waiting_send_arrive_after_it_in_the_order_queued()
    {
        await ConnectAsync();
        var outbound = new SocketOutbound(_server, Capacity, NullLogger.Instance);
        for (var i = 0; i < 20; i++) Assert.True(outbound.TryEnqueue(new ErrorFrame("big", Padding, i.ToString())));
        Assert.True(outbound.Pending > 0); // the client has not read: later frames wait behind the first

        var refs = new List<string?>();
        for (var i = 0; i < 20; i++) refs.Add(((ErrorFrame)await ReceiveAsync()).Ref);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i.ToString()), refs);
        await WaitUntil(() => outbound.Pending == 0);

        // Idle again: the next frame goes out on its own.
        Assert.True(outbound.TryEnqueue(new PongFrame(7)));
        Assert.Equal(7, ((PongFrame)await ReceiveAsync()).T);
    }

    [Fact]
    public async Task A_full_queue_refuses_the_frame_and_keeps_those_it_took()
    {
        await ConnectAsync();
        var outbound = new SocketOutbound(_server, Capacity, NullLogger.Instance);
        var taken = 0;
        while (outbound.TryEnqueue(new ErrorFrame("big", Padding, taken.ToString()))) taken++;
        // One frame is being written, the capacity waits behind it.
        Assert.Equal(Capacity + 1, taken);
        Assert.Equal(Capacity, outbound.Pending);

        for (var i = 0; i < taken; i++) Assert.Equal(i.ToString(), ((ErrorFrame)await ReceiveAsync()).Ref);
    }

    [Fact]
    public async Task A_close_flushes_what_is_queued_then_sends_the_close_code_and_takes_nothing_more()
    {
        await ConnectAsync();
        var outbound = new SocketOutbound(_server, Capacity, NullLogger.Instance);
        for (var i = 0; i < 5; i++) outbound.TryEnqueue(new ErrorFrame("big", Padding, i.ToString()));
        outbound.Close(4008, "outbound queue full");
        Assert.False(outbound.TryEnqueue(new PongFrame(1)));

        for (var i = 0; i < 5; i++) Assert.Equal(i.ToString(), ((ErrorFrame)await ReceiveAsync()).Ref);
        var buffer = new byte[16];
        var end = await _client.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, end.MessageType);
        Assert.Equal(4008, (int)_client.CloseStatus!);
        Assert.Equal("outbound queue full", _client.CloseStatusDescription);
    }

    [Fact]
    public async Task Completing_waits_until_the_queued_frames_are_written()
    {
        await ConnectAsync();
        Assert.True(new SocketOutbound(_server, Capacity, NullLogger.Instance).CompleteAsync().IsCompleted); // nothing to drain

        var outbound = new SocketOutbound(_server, Capacity, NullLogger.Instance);

        for (var i = 0; i < 5; i++) outbound.TryEnqueue(new ErrorFrame("big", Padding, i.ToString()));
        var drained = outbound.CompleteAsync();
        Assert.False(drained.IsCompleted); // the client has read nothing yet
        Assert.False(outbound.TryEnqueue(new PongFrame(1)));

        for (var i = 0; i < 5; i++) await ReceiveAsync();
        await drained.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private async Task<ServerFrame> ReceiveAsync()
    {
        using var message = new MemoryStream();
        var buffer = new byte[64 * 1024];
        WebSocketReceiveResult result;
        do
        {
            result = await _client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            message.Write(buffer, 0, result.Count);
        } while (!result.EndOfMessage);
        return JsonSerializer.Deserialize<ServerFrame>(message.ToArray(), ProtocolJson.Options)!;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < until) await Task.Delay(10);
        Assert.True(condition());
    }

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        _client?.Dispose();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }
}
