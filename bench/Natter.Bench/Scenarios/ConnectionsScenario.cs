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
    public static async Task<BenchResult> RunAsync(BenchOptions options)
    {
        var addresses = new LocalAddresses(8);
        var count = options.Connections;

        double natterRssBefore, natterRssAfter, openRate;
        long pongs = 0, failures = 0;
        await using (var server = await NatterServer.StartAsync(options, new Dictionary<string, string?>
                     {
                         ["Natter:Edge:HeartbeatSeconds"] = "10",
                     }))
        {
            // Real accounts: the edge refuses a token whose device the account does not have.
            Console.Error.WriteLine($"registering {count} accounts");
            var sessions = await Population.RegisterAsync(server.Process, count, parallelism: 32);
            await Task.Delay(2000);
            natterRssBefore = ProcessMemory.RssMb(server.Process.ProcessId);
            var watch = Stopwatch.StartNew();
            using var gate = new SemaphoreSlim(64);
            var opened = 0;
            using (Progress.Every(TimeSpan.FromSeconds(2), () => $"  natter connections open: {opened}/{count}"))
            {
                var connections = await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
                {
                    await gate.WaitAsync();
                    try
                    {
                        var connection = await NatterConnection.ConnectAsync(server.Process.BaseAddress, sessions[i].AccessToken, invoker: addresses.NextInvoker());
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
                openRate = opened / watch.Elapsed.TotalSeconds;
                var live = connections.OfType<NatterConnection>().ToList();
                await HoldWithHeartbeats(options.HoldSeconds, live.Count, i => live[i].PingAsync(i));
                natterRssAfter = ProcessMemory.RssMb(server.Process.ProcessId);
                Console.Error.WriteLine($"natter: {live.Count} connections, RSS {natterRssBefore:F0} -> {natterRssAfter:F0} MB, pongs {pongs}");
                foreach (var c in live) await c.CloseAsync();
            }
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

        var opened2 = count - failures;
        var natterKb = (natterRssAfter - natterRssBefore) * 1024 / Math.Max(1, opened2);
        var echoKb = (echoAfter - echoBefore) * 1024 / Math.Max(1, count);
        var natter = new NatterFigures(Math.Round(openRate), new LatencyMs(0, 0, 0), Math.Round(natterRssAfter, 1), failures, 0, 0, 0);
        var baseline = new BaselineFigures("kestrel-echo", 0, null, Math.Round(echoAfter, 1));
        return new BenchResult("connections", new Dictionary<string, object>
            {
                ["connections"] = count, ["hold_seconds"] = options.HoldSeconds, ["journal"] = options.Journal, ["quick"] = options.Quick,
            },
            natter, baseline, null, MachineInfo.Current(), new Dictionary<string, object>
            {
                ["natter_connections_open"] = opened2,
                ["natter_rss_kb_per_connection"] = Math.Round(natterKb, 2),
                ["echo_rss_kb_per_connection"] = Math.Round(echoKb, 2),
                ["rss_per_connection_ratio"] = Math.Round(natterKb / Math.Max(echoKb, 0.001), 3),
                ["heartbeat_pongs"] = pongs,
                ["note"] = "throughput_per_s is connections opened per second",
            });
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
