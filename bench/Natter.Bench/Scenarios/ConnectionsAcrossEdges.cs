using System.Diagnostics;
using Natter.Bench.Load;
using Natter.Bench.Report;
using Natter.Bench.Servers;
using Natter.Testing;

namespace Natter.Bench.Scenarios;

/// <summary>
/// `connections --edges N`: the connections held on a cluster as operators scale it, N edge-only processes and
/// one node on PostgreSQL, each edge fed by its own load-generator process (<see cref="ConnectionHolder"/>). A
/// process may hold at most 20,000 open files here, so this is how 100,000 connections are opened on one machine.
/// Figures: the edges' RSS growth per connection (summed over the edges), the node's, and the echo baseline
/// holding one edge's share of the sockets.
/// </summary>
public static class ConnectionsAcrossEdges
{
    public static async Task<BenchResult> RunAsync(BenchOptions options)
    {
        var count = options.Connections;
        var edges = options.Edges;
        // Clients ping, and edges re-announce presence, every heartbeat: the production default (30 s), or less,
        // so that every connection's heartbeat flows at least twice within the hold.
        var heartbeatSeconds = Math.Max(1, Math.Min(30, options.HoldSeconds / 2));
        await using var cluster = await NatterCluster.StartAsync(1, edges, new Dictionary<string, string?>
        {
            ["Natter:Edge:HeartbeatSeconds"] = heartbeatSeconds.ToString(),
        });
        var share = Enumerable.Range(0, edges).Select(i => count / edges + (i < count % edges ? 1 : 0)).ToArray();

        Console.Error.WriteLine($"registering {count} accounts through {edges} edges");
        var registered = await Task.WhenAll(cluster.Edges.Select((edge, i) => Population.RegisterAsync(edge, share[i], parallelism: 16)));
        var tokenFiles = new string[edges];
        var folder = TempDirectory.Create("natter-holders");
        for (var i = 0; i < edges; i++)
        {
            tokenFiles[i] = Path.Combine(folder, $"tokens-{i}.txt");
            await File.WriteAllLinesAsync(tokenFiles[i], registered[i].Select(s => s.AccessToken));
        }
        await Task.Delay(2000);

        var node = cluster.NodeProcessIds[0];
        var edgesBefore = await Task.WhenAll(cluster.Edges.Select(e => Rss.OfAsync(e.ProcessId)));
        var nodeBefore = await Rss.OfAsync(node);

        var watch = Stopwatch.StartNew();
        var holders = cluster.Edges.Select((edge, i) => Holder.Start(edge.BaseAddress, tokenFiles[i])).ToList();
        try
        {
            using (Progress.Every(TimeSpan.FromSeconds(5), () => $"  holders ready: {holders.Count(h => h.Opened.IsCompleted)}/{edges}"))
                await Task.WhenAll(holders.Select(h => h.Opened));
            var openRate = count / watch.Elapsed.TotalSeconds;
            var opened = holders.Sum(h => h.Opened.Result.Opened);
            var failed = holders.Sum(h => h.Opened.Result.Failed);
            Console.Error.WriteLine($"{opened} connections open on {edges} edges ({failed} failed); holding {options.HoldSeconds} s");
            await Task.Delay(TimeSpan.FromSeconds(options.HoldSeconds));

            var edgesAfter = await Task.WhenAll(cluster.Edges.Select(e => Rss.OfAsync(e.ProcessId)));
            var nodeAfter = await Rss.OfAsync(node);
            var pongs = (await Task.WhenAll(holders.Select(h => h.StopAsync()))).Sum();

            var edgesGrowth = edgesAfter.Sum(r => r.RawMb) - edgesBefore.Sum(r => r.RawMb);
            var edgesGrowthAfterGc = edgesAfter.Sum(r => r.AfterGcMb) - edgesBefore.Sum(r => r.AfterGcMb);
            var edgeKb = ConnectionsScenario.PerConnection(edgesGrowth, opened);
            var edgeManagedKb = Rss.GrowthKb(edgesBefore, edgesAfter, h => h.SizeMb, opened);
            var nodeKb = ConnectionsScenario.PerConnection(nodeAfter.RawMb - nodeBefore.RawMb, opened);
            var echoGrowth = await ConnectionsScenario.HoldOnEchoAsync(share[0], options.HoldSeconds, new LocalAddresses(8));
            var (echoKb, echoKbAfterGc) = (echoGrowth.Kb, echoGrowth.KbAfterGc);
            Console.Error.WriteLine($"edges: {edgeKb:F2} KB per connection ({edgeManagedKb:F2} KB managed heap), node: {nodeKb:F2} KB, " +
                                    $"echo: {echoKb:F2} KB ({echoGrowth.ManagedKb:F2} KB managed heap); pongs {pongs}");

            var natter = new NatterFigures(Math.Round(openRate), new LatencyMs(0, 0, 0), Math.Round(edgesAfter.Sum(r => r.RawMb), 1),
                count - opened, 0, 0, 0);
            var extra = new Dictionary<string, object>
            {
                ["connections_open"] = opened,
                ["edge_processes"] = edges,
                ["connections_per_edge"] = share,
                ["edges_rss_mb_before"] = edgesBefore.Select(r => Math.Round(r.RawMb, 1)).ToArray(),
                ["edges_rss_mb_after"] = edgesAfter.Select(r => Math.Round(r.RawMb, 1)).ToArray(),
                ["edges_managed_mb_before"] = edgesBefore.Select(r => r.Heap is { } h ? Math.Round(h.SizeMb, 1) : (object)"n/a").ToArray(),
                ["edges_managed_mb_after"] = edgesAfter.Select(r => r.Heap is { } h ? Math.Round(h.SizeMb, 1) : (object)"n/a").ToArray(),
                // After a full collection, per connection: the managed heap's growth, its live objects, the collector's committed memory.
                ["edge_managed_kb_per_connection"] = ConnectionsScenario.Rounded(edgeManagedKb),
                ["edge_live_kb_per_connection"] = ConnectionsScenario.Rounded(Rss.GrowthKb(edgesBefore, edgesAfter, h => h.LiveMb, opened)),
                ["node_managed_kb_per_connection"] = ConnectionsScenario.Rounded(Rss.GrowthKb([nodeBefore], [nodeAfter], h => h.SizeMb, opened)),
                ["echo_managed_kb_per_connection"] = ConnectionsScenario.Rounded(echoGrowth.ManagedKb),
                ["echo_live_kb_per_connection"] = ConnectionsScenario.Rounded(echoGrowth.LiveKb),
                ["edge_gc_committed_kb_per_connection"] = ConnectionsScenario.Rounded(Rss.GrowthKb(edgesBefore, edgesAfter, h => h.CommittedMb, opened)),
                ["echo_gc_committed_kb_per_connection"] = ConnectionsScenario.Rounded(echoGrowth.GcCommittedKb),
                ["edges_threads_after"] = edgesAfter.Select(r => r.Threads).ToArray(),
                ["edges_pool_threads_after"] = edgesAfter.Select(r => r.Heap?.PoolThreads ?? 0).ToArray(),
                ["echo_threads_after"] = echoGrowth.After.Threads,
                ["edge_rss_kb_per_connection"] = Math.Round(edgeKb, 2),
                ["edge_rss_kb_per_connection_after_gc"] = Math.Round(ConnectionsScenario.PerConnection(edgesGrowthAfterGc, opened), 2),
                ["node_rss_kb_per_connection"] = Math.Round(nodeKb, 2),
                ["node_rss_kb_per_connection_after_gc"] = Math.Round(ConnectionsScenario.PerConnection(nodeAfter.AfterGcMb - nodeBefore.AfterGcMb, opened), 2),
                ["echo_connections"] = share[0],
                ["echo_rss_kb_per_connection"] = Math.Round(echoKb, 2),
                ["echo_rss_kb_per_connection_after_gc"] = Math.Round(echoKbAfterGc, 2),
                ["edge_rss_per_connection_ratio"] = Math.Round(edgeKb / Math.Max(echoKb, 0.001), 3),
                ["heartbeat_seconds"] = heartbeatSeconds,
                ["heartbeat_pongs"] = pongs,
                ["server_gc"] = ConnectionsScenario.ServerGcKind,
                ["note"] = "throughput_per_s is connections opened per second over all edges; rss_mb is the edges' sum",
            };
            return new BenchResult("connections", new Dictionary<string, object>
                {
                    ["connections"] = count, ["edges"] = edges, ["hold_seconds"] = options.HoldSeconds, ["journal"] = "postgres",
                    ["quick"] = options.Quick,
                },
                natter, new BaselineFigures("kestrel-echo", 0, null, Math.Round(echoGrowth.After.RawMb, 1)), null, MachineInfo.Current(), extra);
        }
        finally
        {
            foreach (var holder in holders) holder.Dispose();
        }
    }

    /// <summary>One load-generator child process and what it reports.</summary>
    private sealed class Holder : IDisposable
    {
        private readonly Process _process;

        private Holder(Process process)
        {
            _process = process;
            Opened = ReadOpenedAsync();
        }

        public Task<(int Opened, long Failed)> Opened { get; }

        public static Holder Start(Uri edge, string tokens)
        {
            var self = Path.Combine(AppContext.BaseDirectory, "Natter.Bench.dll");
            var process = Process.Start(new ProcessStartInfo("dotnet", $"\"{self}\" {ConnectionHolder.Command} --edge {edge} --tokens \"{tokens}\"")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
            })!;
            return new Holder(process);
        }

        private async Task<(int, long)> ReadOpenedAsync()
        {
            var line = await _process.StandardOutput.ReadLineAsync()
                       ?? throw new InvalidOperationException($"a connection holder exited early ({_process.ExitCode})");
            var words = line.Split(' '); // opened N failed F
            return (int.Parse(words[1]), long.Parse(words[3]));
        }

        /// <summary>Closes the holder's input (it reports its pongs and exits) and returns the pongs.</summary>
        public async Task<long> StopAsync()
        {
            _process.StandardInput.Close();
            var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            return line is not null && line.StartsWith("pongs ") ? long.Parse(line[6..]) : 0;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }
}
