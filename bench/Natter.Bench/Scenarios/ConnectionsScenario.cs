using System.Diagnostics;
using System.Net.WebSockets;
using Natter.Bench.Load;
using Natter.Bench.Report;
using Natter.Bench.Servers;
using Natter.Client;
using Natter.Messages;
using Natter.Messages.Protocol;

namespace Natter.Bench.Scenarios;

/// <summary>
/// Many idle, authenticated connections with heartbeats (ping/pong, presence refresh) flowing: server RSS
/// per connection. Baseline: the raw echo server holding the same number of sockets with the same pings.
/// Each connection is a registered account's device: the edge refuses a token whose device the account lacks.
/// </summary>
public static class ConnectionsScenario
{
    private sealed record Held(int Opened, long Failures, double OpenRate, double RssBeforeMb, double RssAfterMb, long Pongs,
        double? NodeRssBeforeMb = null, double? NodeRssAfterMb = null)
    {
        public double KbPerConnection => (RssAfterMb - RssBeforeMb) * 1024 / Math.Max(1, Opened);

        public double? NodeKbPerConnection => NodeRssAfterMb - NodeRssBeforeMb is { } grown ? grown * 1024 / Math.Max(1, Opened) : null;
    }

    public static async Task<BenchResult> RunAsync(BenchOptions options)
    {
        var addresses = new LocalAddresses(8);
        var count = options.Connections;

        Held embedded;
        await using (var server = await NatterServer.StartAsync(options, new Dictionary<string, string?>
                     {
                         ["Natter:Edge:HeartbeatSeconds"] = "10",
                     }))
        {
            embedded = await HoldNatterAsync("natter", server.Process, null, count, options.HoldSeconds, addresses);
        }

        // The shape production runs: the edge holds the sockets and ConnectionActors, a node the users' entities.
        Held? edgeOnly = null;
        if (options.EdgeOnly)
        {
            await using var cluster = await NatterCluster.StartAsync(1);
            edgeOnly = await HoldNatterAsync("edge-only", cluster.Edge, cluster.NodeProcessIds[0], count, options.HoldSeconds, addresses);
        }

        double echoBefore, echoAfter;
        await using (var echo = await EchoProcess.StartAsync())
        {
            await Task.Delay(1000);
            echoBefore = ProcessMemory.RssMb(echo.ProcessId);
            var sockets = await EchoLoad.ConnectAsync(echo.BaseAddress, count, addresses);
            var ping = new byte[32];
            await HoldWithHeartbeats(options.HoldSeconds, sockets.Length, i => sockets[i].SendAsync(ping, WebSocketMessageType.Binary, true, CancellationToken.None));
            echoAfter = ProcessMemory.RssMb(echo.ProcessId);
            foreach (var s in sockets) s.Abort();
        }

        var echoKb = (echoAfter - echoBefore) * 1024 / Math.Max(1, count);
        var natterKb = embedded.KbPerConnection;
        var natter = new NatterFigures(Math.Round(embedded.OpenRate), new LatencyMs(0, 0, 0), Math.Round(embedded.RssAfterMb, 1), embedded.Failures, 0, 0, 0);
        var baseline = new BaselineFigures("kestrel-echo", 0, null, Math.Round(echoAfter, 1));
        var extra = new Dictionary<string, object>
        {
            ["natter_connections_open"] = embedded.Opened,
            ["natter_rss_kb_per_connection"] = Math.Round(natterKb, 2),
            ["echo_rss_kb_per_connection"] = Math.Round(echoKb, 2),
            ["rss_per_connection_ratio"] = Math.Round(natterKb / Math.Max(echoKb, 0.001), 3),
            ["heartbeat_pongs"] = embedded.Pongs,
            // The servers inherit the harness's environment: DOTNET_gcServer=0 runs them on the workstation GC.
            ["server_gc"] = Environment.GetEnvironmentVariable("DOTNET_gcServer") == "0" ? "workstation" : "server",
            ["note"] = "throughput_per_s is connections opened per second; natter_* is the embedded process (edge and every entity in one)",
        };
        if (edgeOnly is not null)
        {
            extra["edge_only_connections_open"] = edgeOnly.Opened;
            extra["edge_only_rss_kb_per_connection"] = Math.Round(edgeOnly.KbPerConnection, 2);
            extra["edge_only_rss_per_connection_ratio"] = Math.Round(edgeOnly.KbPerConnection / Math.Max(echoKb, 0.001), 3);
            extra["node_rss_kb_per_connection"] = Math.Round(edgeOnly.NodeKbPerConnection ?? 0, 2);
            extra["edge_only_errors"] = edgeOnly.Failures;
            Console.Error.WriteLine($"edge-only: {edgeOnly.KbPerConnection:F2} KB per connection on the edge, {edgeOnly.NodeKbPerConnection:F2} KB on the node");
        }
        return new BenchResult("connections", new Dictionary<string, object>
            {
                ["connections"] = count, ["hold_seconds"] = options.HoldSeconds, ["journal"] = options.Journal, ["quick"] = options.Quick,
                ["edge_only"] = options.EdgeOnly,
            },
            natter with { Errors = natter.Errors + (edgeOnly?.Failures ?? 0) }, baseline, null, MachineInfo.Current(), extra);
    }

    /// <summary>Registers <paramref name="count"/> accounts, opens a connection for each, holds them with heartbeats.</summary>
    private static async Task<Held> HoldNatterAsync(string name, Natter.Testing.ServerProcess edge, int? nodeProcessId, int count, int holdSeconds,
        LocalAddresses addresses)
    {
        // Real accounts: the edge refuses a token whose device the account does not have.
        Console.Error.WriteLine($"{name}: registering {count} accounts");
        var sessions = await Population.RegisterAsync(edge, count, parallelism: 32);
        await Task.Delay(2000);
        var rssBefore = ProcessMemory.RssMb(edge.ProcessId);
        var nodeBefore = nodeProcessId is { } node ? ProcessMemory.RssMb(node) : (double?)null;
        long pongs = 0, failures = 0;
        var watch = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(64);
        var opened = 0;
        using var progress = Progress.Every(TimeSpan.FromSeconds(2), () => $"  {name} connections open: {opened}/{count}");
        var connections = await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var connection = await NatterConnection.ConnectAsync(edge.BaseAddress, sessions[i].AccessToken, invoker: addresses.NextInvoker());
                connection.KeepFrames = false;
                connection.FrameReceived += f => { if (f is PongFrame) Interlocked.Increment(ref pongs); };
                Interlocked.Increment(ref opened);
                return connection;
            }
            catch (Exception e) when (e is WebSocketException or HttpRequestException or TimeoutException)
            {
                Interlocked.Increment(ref failures);
                return null;
            }
            finally
            {
                gate.Release();
            }
        }));
        var openRate = opened / watch.Elapsed.TotalSeconds;
        var live = connections.OfType<NatterConnection>().ToList();
        await HoldWithHeartbeats(holdSeconds, live.Count, i => live[i].PingAsync(i));
        var rssAfter = ProcessMemory.RssMb(edge.ProcessId);
        var nodeAfter = nodeProcessId is { } n ? ProcessMemory.RssMb(n) : (double?)null;
        Console.Error.WriteLine($"{name}: {live.Count} connections, RSS {rssBefore:F0} -> {rssAfter:F0} MB, pongs {pongs}");
        foreach (var c in live) await c.CloseAsync();
        return new Held(live.Count, failures, openRate, rssBefore, rssAfter, pongs, nodeBefore, nodeAfter);
    }

    /// <summary>Holds the connections open, pinging every one of them about every 5 seconds.</summary>
    private static async Task HoldWithHeartbeats(int seconds, int count, Func<int, Task> ping)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        var next = 0;
        while (DateTime.UtcNow < until && count > 0)
        {
            var batch = Math.Max(1, count / 5);
            var pings = new List<Task>(batch);
            for (var k = 0; k < batch; k++) pings.Add(ping(next++ % count));
            await Task.WhenAll(pings).ContinueWith(_ => { });
            await Task.Delay(1000);
        }
    }
}
