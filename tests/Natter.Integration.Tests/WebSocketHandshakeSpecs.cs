using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Natter.Client;
using Natter.Cluster.Edge;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;
using DeviceSession = Natter.Client.DeviceSession;

namespace Natter.Integration.Tests;

/// <summary>
/// The upgrade of /ws as the edge answers it on the raw connection (docs/protocol.md §2), against real Kestrel on
/// 127.0.0.1 with real clients and raw TCP: what it takes, what it leaves to ASP.NET Core's WebSocket middleware, and
/// that a bad or slow head harms no other connection.
/// </summary>
public sealed class WebSocketHandshakeSpecs : IAsyncLifetime
{
    private InProcessServer _server = null!;
    private DeviceSession _alice = null!;
    private NatterConnection _bystander = null!;

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync(Journal.Sqlite());
        _alice = await _server.RegisterAsync();
        _bystander = await _server.ConnectAsync(await _server.RegisterAsync());
    }

    public async Task DisposeAsync()
    {
        // Whatever a spec did to the handshake, an established neighbour still answers.
        await _bystander.PingAsync(42);
        Assert.Equal(42, (await _bystander.NextAsync<PongFrame>()).T);
        await _bystander.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_client_upgrade_is_answered_on_the_connection_below_http()
    {
        using var upgrades = new ServerInstrument(_server, EdgeMetrics.UpgradesName);
        await using var socket = await _server.ConnectAsync(_alice);
        await socket.PingAsync(1);
        Assert.Equal(1, (await socket.NextAsync<PongFrame>()).T);
        Assert.Equal((1, 0), (upgrades.Count(EdgeMetrics.ConnectionHandshake), upgrades.Count(EdgeMetrics.HttpHandshake)));
    }

    [Fact]
    public async Task An_upgrade_whose_head_is_over_8_KiB_is_served_by_aspnet_core_websockets()
    {
        using var upgrades = new ServerInstrument(_server, EdgeMetrics.UpgradesName);
        using var padded = new HttpMessageInvoker(new PaddingHandler(new string('p', 9 * 1024)));
        await using var socket = await NatterConnection.ConnectAsync(_server.BaseAddress, _alice.AccessToken, invoker: padded);
        await socket.PingAsync(2);
        Assert.Equal(2, (await socket.NextAsync<PongFrame>()).T);
        Assert.Equal((0, 1), (upgrades.Count(EdgeMetrics.ConnectionHandshake), upgrades.Count(EdgeMetrics.HttpHandshake)));
    }

    [Fact]
    public async Task A_head_sent_a_byte_at_a_time_with_the_query_token_still_upgrades_below_http()
    {
        using var upgrades = new ServerInstrument(_server, EdgeMetrics.UpgradesName);
        await using var raw = await RawClient.ConnectAsync(_server.BaseAddress);
        await raw.SendSlowlyAsync(Upgrade($"/ws?access_token={Uri.EscapeDataString(_alice.AccessToken)}"));
        var (status, _, _) = await raw.ResponseAsync();
        Assert.Equal(101, status);
        using var socket = WebSocket.CreateFromStream(raw.Stream, new WebSocketCreationOptions { IsServer = false });
        Assert.Contains("\"type\":\"welcome\"", await ReceiveTextAsync(socket));
        Assert.Equal((1, 0), (upgrades.Count(EdgeMetrics.ConnectionHandshake), upgrades.Count(EdgeMetrics.HttpHandshake)));
    }

    [Fact]
    public async Task A_frame_sent_in_the_same_write_as_the_head_is_read_as_the_sockets_first()
    {
        await using var raw = await RawClient.ConnectAsync(_server.BaseAddress);
        var head = Encoding.ASCII.GetBytes(Upgrade("/ws", $"Authorization: Bearer {_alice.AccessToken}"));
        await raw.Stream.WriteAsync((byte[])[.. head, .. MaskedTextFrame("{\"type\":\"ping\",\"t\":5}")]);
        Assert.Equal(101, (await raw.ResponseAsync()).Status);
        using var socket = WebSocket.CreateFromStream(raw.Stream, new WebSocketCreationOptions { IsServer = false });
        Assert.Contains("\"type\":\"welcome\"", await ReceiveTextAsync(socket));
        Assert.Contains("\"type\":\"pong\",\"t\":5", await ReceiveTextAsync(socket));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("")]
    public async Task A_refused_upgrade_gets_401_with_the_documented_json_error_and_the_connection_closes(string token)
    {
        await using var raw = await RawClient.ConnectAsync(_server.BaseAddress);
        await raw.SendAsync(Upgrade("/ws", $"Authorization: Bearer {token}"));
        var (status, head, body) = await raw.ResponseAsync();
        Assert.Equal(401, status);
        Assert.Contains("Content-Type: application/json; charset=utf-8", head);
        Assert.StartsWith("{\"error\":{\"code\":\"unauthorized\",\"message\":", body);
        // Answered below HTTP (which would send chunks and keep the connection): a sized body, a Date, then the end.
        Assert.Contains("Content-Length: ", head);
        Assert.Contains("Date: ", head);
        Assert.Contains("Connection: close", head);
        Assert.True(await raw.EndedAsync());
    }

    [Fact]
    public async Task A_client_that_resets_during_its_head_leaves_no_error_behind()
    {
        using var connections = new ServerInstrument(_server, "kestrel.active_connections");
        // Only what follows counts: the log before it is the server's start, not this connection's.
        var logBefore = ServerLog().Length;
        await using (var raw = await RawClient.ConnectAsync(_server.BaseAddress))
        {
            await raw.SendAsync("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr");
            raw.Reset();
        }
        // Kestrel has ended that connection, so whatever it logs of it is in the log.
        await Eventually.UntilAsync(() => Task.FromResult(connections.Decrements), ended => ended >= 1, TimeSpan.FromSeconds(20),
            "the reset connection's end");
        var log = ServerLog()[logBefore..];
        Assert.False(log.Contains(" Error ") || log.Contains(" Critical "), $"the server logged an error:\n{log}");
    }

    [Fact]
    public async Task A_get_of_ws_that_is_no_upgrade_gets_the_same_400_as_before()
    {
        await using var raw = await RawClient.ConnectAsync(_server.BaseAddress);
        await raw.SendAsync("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        var (status, _, body) = await raw.ResponseAsync();
        Assert.Equal(400, status);
        Assert.Contains("expected a WebSocket upgrade", body);
    }

    [Fact]
    public async Task A_malformed_ws_head_arriving_in_pieces_gets_kestrels_400()
    {
        await using var raw = await RawClient.ConnectAsync(_server.BaseAddress);
        await raw.SendSlowlyAsync(Upgrade("/ws", "Bad Header Line"));
        var (status, _, _) = await raw.ResponseAsync();
        Assert.Equal(400, status);
    }

    [Fact]
    public async Task Other_requests_on_a_connection_reach_http_untouched()
    {
        await using var raw = await RawClient.ConnectAsync(_server.BaseAddress);
        await raw.SendSlowlyAsync("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Assert.Equal(200, (await raw.ResponseAsync()).Status);
        // The same connection, kept alive, then upgrades through ASP.NET Core: only a first request is looked at.
        await raw.SendAsync(Upgrade("/ws", $"Authorization: Bearer {_alice.AccessToken}"));
        Assert.Equal(101, (await raw.ResponseAsync()).Status);
    }

    [Fact]
    public async Task A_ws_head_gets_408_when_it_is_not_complete_within_the_timeout_counted_from_its_first_byte()
    {
        await using var server = await InProcessServer.StartAsync(Journal.Sqlite(),
            overrides: new Dictionary<string, string?> { ["Natter:Edge:RequestHeadersTimeoutSeconds"] = "3" });
        await using var raw = await RawClient.ConnectAsync(server.BaseAddress);
        // Silence first: a connection opened early (a browser's preconnect) has the whole timeout once it speaks.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var firstByte = System.Diagnostics.Stopwatch.StartNew();
        await raw.SendAsync("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        var (status, _, _) = await raw.ResponseAsync();
        var waited = firstByte.Elapsed;
        Assert.Equal(408, status);
        Assert.True(await raw.EndedAsync());
        // Not counted from the connection's start (it would come after 1 s), and not a second full timeout in HTTP (6 s).
        Assert.InRange(waited, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task With_the_http_handshake_configured_every_upgrade_goes_through_aspnet_core()
    {
        await using var server = await InProcessServer.StartAsync(Journal.Sqlite(),
            overrides: new Dictionary<string, string?> { ["Natter:Edge:WebSocketHandshake"] = "http" });
        using var upgrades = new ServerInstrument(server, EdgeMetrics.UpgradesName);
        await using var socket = await server.ConnectAsync(await server.RegisterAsync());
        await socket.PingAsync(3);
        Assert.Equal(3, (await socket.NextAsync<PongFrame>()).T);
        Assert.Equal((0, 1), (upgrades.Count(EdgeMetrics.ConnectionHandshake), upgrades.Count(EdgeMetrics.HttpHandshake)));
    }

    private string ServerLog() => File.ReadAllText(Path.Combine(_server.DataDirectory, "server.log"));

    private static async Task<string> ReceiveTextAsync(WebSocket socket)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    /// <summary>A client's text frame (RFC 6455 §5.2: masked), for a payload under 126 bytes.</summary>
    private static byte[] MaskedTextFrame(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        byte[] mask = [0x12, 0x34, 0x56, 0x78];
        return [0x81, (byte)(0x80 | payload.Length), .. mask, .. payload.Select((b, i) => (byte)(b ^ mask[i % 4]))];
    }

    private static string Upgrade(string target, params string[] headers) =>
        string.Join("\r\n", new[] { $"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13" }.Concat(headers)) + "\r\n\r\n";

    /// <summary>Adds one large header to the upgrade request, as a proxy adding cookies or tracing might.</summary>
    private sealed class PaddingHandler(string padding) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            request.Headers.Add("X-Padding", padding);
            return base.SendAsync(request, ct);
        }
    }

    /// <summary>One instrument of this server's own meters (other servers in the process have theirs).</summary>
    private sealed class ServerInstrument : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(long Value, string? Handshake)> _measured = new();

        public ServerInstrument(InProcessServer server, string instrumentName)
        {
            var meters = server.Services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == instrumentName) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string? handshake = null;
                foreach (var tag in tags)
                    if (tag.Key == EdgeMetrics.HandshakeTag) handshake = (string?)tag.Value;
                _measured.Enqueue((value, handshake));
            });
            _listener.Start();
        }

        /// <summary>Accepted upgrades answered by <paramref name="handshake"/>'s layer.</summary>
        public long Count(string handshake) => _measured.Where(m => m.Handshake == handshake).Sum(m => m.Value);

        /// <summary>How often an up-down counter went down (a connection ended).</summary>
        public long Decrements => _measured.Count(m => m.Value < 0);

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>HTTP/1.1 by hand over TCP, for heads no client library would send.</summary>
    private sealed class RawClient : IAsyncDisposable
    {
        private readonly TcpClient _tcp;

        private RawClient(TcpClient tcp)
        {
            _tcp = tcp;
            Stream = tcp.GetStream();
        }

        public NetworkStream Stream { get; }

        public static async Task<RawClient> ConnectAsync(Uri server)
        {
            // No Nagle: each piece of a slow head leaves as its own segment.
            var tcp = new TcpClient { NoDelay = true };
            await tcp.ConnectAsync(server.Host, server.Port);
            return new RawClient(tcp);
        }

        public Task SendAsync(string text) => Stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

        /// <summary>Whether the server ended the connection (after its response) within 10 s.</summary>
        public async Task<bool> EndedAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                return await Stream.ReadAsync(new byte[1], timeout.Token) == 0;
            }
            catch (IOException)
            {
                return true;
            }
        }

        /// <summary>Ends the connection with a TCP reset, as a client that vanishes mid-request does.</summary>
        public void Reset()
        {
            _tcp.LingerState = new LingerOption(true, 0);
            _tcp.Close();
        }

        public async Task SendSlowlyAsync(string text)
        {
            foreach (var b in Encoding.ASCII.GetBytes(text))
            {
                await Stream.WriteAsync(new[] { b });
                await Task.Delay(2);
            }
        }

        /// <summary>A response's status, head and body (by its Content-Length or chunks; none for 101).</summary>
        public async Task<(int Status, string Head, string Body)> ResponseAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var head = await ReadToAsync("\r\n\r\n", timeout.Token);
            var lines = head.Split("\r\n");
            string? Header(string name) => lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();
            var body = new StringBuilder();
            if (Header("Transfer-Encoding") == "chunked")
            {
                int size;
                while ((size = Convert.ToInt32((await ReadToAsync("\r\n", timeout.Token)).Trim(), 16)) > 0)
                {
                    body.Append(await ReadExactlyAsync(size, timeout.Token));
                    await ReadToAsync("\r\n", timeout.Token);
                }
                await ReadToAsync("\r\n", timeout.Token);
            }
            else if (Header("Content-Length") is { } length)
            {
                body.Append(await ReadExactlyAsync(int.Parse(length), timeout.Token));
            }
            return (int.Parse(lines[0].Split(' ')[1]), head, body.ToString());
        }

        private async Task<string> ReadToAsync(string end, CancellationToken ct)
        {
            var read = new List<byte>();
            var one = new byte[1];
            while (!read.TakeLast(end.Length).SequenceEqual(Encoding.ASCII.GetBytes(end)))
            {
                if (await Stream.ReadAsync(one, ct) == 0) throw new EndOfStreamException($"closed after: {Encoding.ASCII.GetString([.. read])}");
                read.Add(one[0]);
            }
            return Encoding.ASCII.GetString([.. read]);
        }

        private async Task<string> ReadExactlyAsync(int count, CancellationToken ct)
        {
            var bytes = new byte[count];
            await Stream.ReadExactlyAsync(bytes, ct);
            return Encoding.UTF8.GetString(bytes);
        }

        public ValueTask DisposeAsync()
        {
            _tcp.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
