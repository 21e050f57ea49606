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
/// RSS is also read when half the connections are open: the second half's growth per connection is the marginal
/// cost, without what a process grows by once whatever it holds (pools, the first allocation budgets). It tells
/// whether the figure at this count overstates what more connections would cost each.
/// </summary>
public static class ConnectionsScenario
{
    /// <summary>What a Natter process held: <see cref="Edge"/> is the process with the sockets.</summary>
    private sealed record Held(Growth Edge, long Failures, double OpenRate, long Pongs, Rss? NodeBefore = null, Rss? NodeAfter = null)
    {
        public int Opened => Edge.Opened;

        public double? NodeKbPerConnection => NodeAfter is { } after && NodeBefore is { } before ? PerConnection(after.RawMb - before.RawMb, Opened) : null;

        public double? NodeKbPerConnectionAfterGc =>
            NodeAfter is { } after && NodeBefore is { } before ? PerConnection(after.AfterGcMb - before.AfterGcMb, Opened) : null;

        public double? NodeManagedKbPerConnection =>
            NodeAfter is { } after && NodeBefore is { } before ? Rss.GrowthKb([before], [after], h => h.SizeMb, Opened) : null;
    }

    internal static double PerConnection(double grownMb, int connections) => grownMb * 1024 / Math.Max(1, connections);

    /// <summary>A figure for the JSON: rounded, or "n/a" when the process did not report it.</summary>
    internal static object Rounded(double? kb) => kb is { } v ? Math.Round(v, 2) : "n/a";

    /// <summary>RSS before any connection, with the first half open, and with all open (after the hold).</summary>
    internal sealed record Growth(Rss Before, Rss Half, int HalfOpened, Rss After, int Opened)
    {
        public double Kb => PerConnection(After.RawMb - Before.RawMb, Opened);

        public double KbAfterGc => PerConnection(After.AfterGcMb - Before.AfterGcMb, Opened);

        /// <summary>What the second half cost each: a connection's cost without the process's one-off growth.</summary>
        public double MarginalKb => PerConnection(After.AfterGcMb - Half.AfterGcMb, Opened - HalfOpened);

        /// <summary>The managed heap's growth per connection after a full collection (its objects and the free space
        /// between them), without the collector's spare room, native memory and code: the rest of <see cref="KbAfterGc"/>.</summary>
        public double? ManagedKb => Rss.GrowthKb([Before], [After], h => h.SizeMb, Opened);

        /// <summary>What survived that collection, per connection: <see cref="ManagedKb"/> less the free space between objects.</summary>
        public double? LiveKb => Rss.GrowthKb([Before], [After], h => h.LiveMb, Opened);

        /// <summary>The growth per connection of the memory the collector holds committed (its heap and the room it keeps).</summary>
        public double? GcCommittedKb => Rss.GrowthKb([Before], [After], h => h.CommittedMb, Opened);
    }

    public static async Task<BenchResult> RunAsync(BenchOptions options)
    {
        if (options.Edges > 1) return await ConnectionsAcrossEdges.RunAsync(options);

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

        var echoGrowth = await HoldOnEchoAsync(count, options.HoldSeconds, addresses);
        var echoKb = echoGrowth.Kb;
        var echoKbAfterGc = echoGrowth.KbAfterGc;
        var natterKb = embedded.Edge.Kb;
        var natter = new NatterFigures(Math.Round(embedded.OpenRate), new LatencyMs(0, 0, 0), Math.Round(embedded.Edge.After.RawMb, 1), embedded.Failures, 0, 0, 0);
        var baseline = new BaselineFigures("kestrel-echo", 0, null, Math.Round(echoGrowth.After.RawMb, 1));
        var extra = new Dictionary<string, object>
        {
            ["natter_connections_open"] = embedded.Opened,
            ["natter_rss_kb_per_connection"] = Math.Round(natterKb, 2),
            ["echo_rss_kb_per_connection"] = Math.Round(echoKb, 2),
            ["rss_per_connection_ratio"] = Math.Round(natterKb / Math.Max(echoKb, 0.001), 3),
            // The same, each RSS read again after a full collection in that process: steadier run to run.
            ["natter_rss_kb_per_connection_after_gc"] = Math.Round(embedded.Edge.KbAfterGc, 2),
            ["echo_rss_kb_per_connection_after_gc"] = Math.Round(echoKbAfterGc, 2),
            ["rss_per_connection_ratio_after_gc"] = Math.Round(embedded.Edge.KbAfterGc / Math.Max(echoKbAfterGc, 0.001), 3),
            // The second half's growth per connection (after a GC): the cost of more connections.
            ["natter_marginal_kb_per_connection"] = Math.Round(embedded.Edge.MarginalKb, 2),
            ["echo_marginal_kb_per_connection"] = Math.Round(echoGrowth.MarginalKb, 2),
            // After a full collection, per connection: the managed heap's growth, its live objects, the collector's committed memory.
            ["natter_managed_kb_per_connection"] = Rounded(embedded.Edge.ManagedKb),
            ["echo_managed_kb_per_connection"] = Rounded(echoGrowth.ManagedKb),
            ["natter_live_kb_per_connection"] = Rounded(embedded.Edge.LiveKb),
            ["echo_live_kb_per_connection"] = Rounded(echoGrowth.LiveKb),
            ["natter_gc_committed_kb_per_connection"] = Rounded(embedded.Edge.GcCommittedKb),
            ["echo_gc_committed_kb_per_connection"] = Rounded(echoGrowth.GcCommittedKb),
            ["natter_threads_after"] = embedded.Edge.After.Threads,
            ["echo_threads_after"] = echoGrowth.After.Threads,
            ["heartbeat_pongs"] = embedded.Pongs,
            // The servers inherit the harness's environment: DOTNET_gcServer=0 runs them on the workstation GC.
            ["server_gc"] = ServerGcKind,
            ["note"] = "throughput_per_s is connections opened per second; natter_* is the embedded process (edge and every entity in one)",
        };
        if (edgeOnly is not null)
        {
            extra["edge_only_connections_open"] = edgeOnly.Opened;
            extra["edge_only_rss_kb_per_connection"] = Math.Round(edgeOnly.Edge.Kb, 2);
            extra["edge_only_rss_per_connection_ratio"] = Math.Round(edgeOnly.Edge.Kb / Math.Max(echoKb, 0.001), 3);
            extra["node_rss_kb_per_connection"] = Math.Round(edgeOnly.NodeKbPerConnection ?? 0, 2);
            extra["edge_only_rss_kb_per_connection_after_gc"] = Math.Round(edgeOnly.Edge.KbAfterGc, 2);
            extra["node_rss_kb_per_connection_after_gc"] = Math.Round(edgeOnly.NodeKbPerConnectionAfterGc ?? 0, 2);
            extra["edge_only_errors"] = edgeOnly.Failures;
            extra["edge_only_marginal_kb_per_connection"] = Math.Round(edgeOnly.Edge.MarginalKb, 2);
            extra["edge_only_managed_kb_per_connection"] = Rounded(edgeOnly.Edge.ManagedKb);
            extra["edge_only_live_kb_per_connection"] = Rounded(edgeOnly.Edge.LiveKb);
            extra["edge_only_gc_committed_kb_per_connection"] = Rounded(edgeOnly.Edge.GcCommittedKb);
            extra["edge_only_threads_after"] = edgeOnly.Edge.After.Threads;
            extra["node_managed_kb_per_connection"] = Rounded(edgeOnly.NodeManagedKbPerConnection);
            Console.Error.WriteLine($"edge-only: {edgeOnly.Edge.Kb:F2} KB per connection on the edge ({edgeOnly.Edge.KbAfterGc:F2} after a GC), " +
                                    $"{edgeOnly.NodeKbPerConnection:F2} KB on the node ({edgeOnly.NodeKbPerConnectionAfterGc:F2} after a GC)");
        }
        return new BenchResult("connections", new Dictionary<string, object>
            {
                ["connections"] = count, ["hold_seconds"] = options.HoldSeconds, ["journal"] = options.Journal, ["quick"] = options.Quick,
                ["edge_only"] = options.EdgeOnly,
            },
            natter with { Errors = natter.Errors + (edgeOnly?.Failures ?? 0) }, baseline, null, MachineInfo.Current(), extra);
    }

    /// <summary>The servers inherit the harness's environment: DOTNET_gcServer=0 runs them on the workstation GC.</summary>
    internal static string ServerGcKind => Environment.GetEnvironmentVariable("DOTNET_gcServer") == "0" ? "workstation" : "server";

    /// <summary>The baseline: the raw echo server holding <paramref name="count"/> sockets with the same pings; its RSS as they open.</summary>
    internal static async Task<Growth> HoldOnEchoAsync(int count, int holdSeconds, LocalAddresses addresses)
    {
        await using var echo = await EchoProcess.StartAsync();
        await Task.Delay(1000);
        var before = await Rss.OfAsync(echo.ProcessId);
        var ping = new byte[32];
        var first = await EchoLoad.ConnectAsync(echo.BaseAddress, count / 2, addresses);
        await HoldWithHeartbeats(HalfwayHoldSeconds(holdSeconds), first.Length, i => first[i].SendAsync(ping, WebSocketMessageType.Binary, true, CancellationToken.None));
        var half = await Rss.OfAsync(echo.ProcessId);
        var sockets = first.Concat(await EchoLoad.ConnectAsync(echo.BaseAddress, count - first.Length, addresses)).ToArray();
        await HoldWithHeartbeats(holdSeconds, sockets.Length, i => sockets[i].SendAsync(ping, WebSocketMessageType.Binary, true, CancellationToken.None));
        var after = await Rss.OfAsync(echo.ProcessId);
        foreach (var s in sockets) s.Abort();
        return new Growth(before, half, first.Length, after, sockets.Length);
    }

    /// <summary>How long the first half is held, with heartbeats, before its reading: as long as the whole, at most 10 s.</summary>
    private static int HalfwayHoldSeconds(int holdSeconds) => Math.Min(holdSeconds, 10);

    /// <summary>Registers <paramref name="count"/> accounts, opens a connection for each, holds them with heartbeats.</summary>
    private static async Task<Held> HoldNatterAsync(string name, Natter.Testing.ServerProcess edge, int? nodeProcessId, int count, int holdSeconds,
        LocalAddresses addresses)
    {
        // Real accounts: the edge refuses a token whose device the account does not have.
        Console.Error.WriteLine($"{name}: registering {count} accounts");
        var sessions = await Population.RegisterAsync(edge, count, parallelism: 32);
        await Task.Delay(2000);
        var rssBefore = await Rss.OfAsync(edge.ProcessId);
        var nodeBefore = nodeProcessId is { } node ? await Rss.OfAsync(node) : null;
        var opening = new Stopwatch(); // the time spent opening: the rate leaves out the halfway hold
        var idle = new IdleConnections();
        var tokens = sessions.Select(s => s.AccessToken).ToList();
        List<NatterConnection> live;
        Rss rssHalf;
        int halfOpened;
        using (Progress.Every(TimeSpan.FromSeconds(2), () => $"  {name} connections open: {idle.Opened}/{count}"))
        {
            opening.Start();
            live = await idle.OpenAsync(edge.BaseAddress, tokens.Take(count / 2), addresses);
            opening.Stop();
            await HoldWithHeartbeats(HalfwayHoldSeconds(holdSeconds), live.Count, i => live[i].PingAsync(i));
            rssHalf = await Rss.OfAsync(edge.ProcessId);
            halfOpened = live.Count;
            opening.Start();
            live.AddRange(await idle.OpenAsync(edge.BaseAddress, tokens.Skip(count / 2), addresses));
            opening.Stop();
        }
        var openRate = idle.Opened / Math.Max(0.001, opening.Elapsed.TotalSeconds);
        await HoldWithHeartbeats(holdSeconds, live.Count, i => live[i].PingAsync(i));
        var rssAfter = await Rss.OfAsync(edge.ProcessId);
        var nodeAfter = nodeProcessId is { } n ? await Rss.OfAsync(n) : null;
        Console.Error.WriteLine($"{name}: {live.Count} connections, RSS {rssBefore.RawMb:F0} -> {rssAfter.RawMb:F0} MB " +
                                $"({rssBefore.AfterGcMb:F0} -> {rssHalf.AfterGcMb:F0} at {halfOpened} -> {rssAfter.AfterGcMb:F0} after a GC; " +
                                $"managed heap {rssBefore.Heap?.SizeMb:F0} -> {rssAfter.Heap?.SizeMb:F0} MB, live {rssBefore.Heap?.LiveMb:F0} -> {rssAfter.Heap?.LiveMb:F0}, " +
                                $"GC committed {rssBefore.Heap?.CommittedMb:F0} -> {rssAfter.Heap?.CommittedMb:F0}, threads {rssBefore.Threads} -> {rssAfter.Threads}), " +
                                $"pongs {idle.Pongs}");
        foreach (var c in live) await c.CloseAsync();
        return new Held(new Growth(rssBefore, rssHalf, halfOpened, rssAfter, live.Count), idle.Failed, openRate, idle.Pongs, nodeBefore, nodeAfter);
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
