using System.Diagnostics;
using Natter.Bench.Load;
using Natter.Bench.Report;
using Natter.Bench.Servers;
using Natter.Client;

namespace Natter.Bench.Scenarios;

/// <summary>
/// Messages to offline recipients, then the recipients connect and drain: how fast stored messages
/// reach a device that comes back. Baseline: the same messages delivered to online recipients.
/// </summary>
public static class OfflineScenario
{
    public static async Task<BenchResult> RunAsync(BenchOptions options)
    {
        var pairs = Math.Max(1, options.Clients / 2);
        var perSender = Math.Max(1, options.Messages / pairs);
        await using var server = await NatterServer.StartAsync(options);
        var population = await Population.PairsAsync(server.Process, pairs);

        // Baseline first, on its own chats: online recipients.
        var online = await Population.PairsAsync(server.Process, pairs);
        var onlineConnections = await Population.ConnectAsync(server.Process, online.SelectMany(p => new[] { p.A, p.B }));
        foreach (var c in onlineConnections) await c.SyncAsync();
        var onlineLanes = online.Select((p, i) => new SenderLane(onlineConnections[2 * i], p.ChatId, onlineConnections[2 * i + 1])).ToList();
        Console.Error.WriteLine($"direct baseline: {pairs} senders x {perSender}");
        var direct = await MessageLoad.RunAsync(onlineLanes, perSender, options.InFlight, options.BodyBytes);
        foreach (var c in onlineConnections) await c.DisposeAsync();

        // Offline: only senders connected.
        var senders = await Population.ConnectAsync(server.Process, population.Select(p => p.A));
        Console.Error.WriteLine($"offline: {pairs} senders x {perSender} to offline recipients");
        var sendWatch = Stopwatch.StartNew();
        var acked = 0L;
        await Task.WhenAll(senders.Select(async (s, i) =>
        {
            for (var m = 0; m < perSender; m += options.InFlight)
            {
                var batch = Enumerable.Range(m, Math.Min(options.InFlight, perSender - m))
                    .Select(k => s.SendPipelinedAsync(population[i].ChatId, $"off-{k}", new byte[Math.Max(8, options.BodyBytes)]));
                Interlocked.Add(ref acked, (await Task.WhenAll(batch)).Length);
            }
        }));
        var sendTime = sendWatch.Elapsed;

        // Recipients come online and drain.
        var drainWatch = Stopwatch.StartNew();
        var recipients = await Population.ConnectAsync(server.Process, population.Select(p => p.B));
        await Task.WhenAll(recipients.Select(r => r.SyncAsync()));
        var drainTime = drainWatch.Elapsed;
        var delivered = recipients.Select((r, i) => (long)r.Received.Of(population[i].ChatId).Count).Sum();
        var outOfOrder = recipients.Sum(r => (long)r.Received.OutOfOrder);
        var duplicates = recipients.Sum(r => (long)r.Received.Duplicates);
        var rss = ProcessMemory.RssMb(server.Process.ProcessId);
        foreach (var c in senders.Concat(recipients)) await c.DisposeAsync();

        var natter = new NatterFigures(Math.Round(delivered / drainTime.TotalSeconds), new LatencyMs(0, 0, 0), Math.Round(rss, 1),
            0, Math.Max(0, acked - delivered), duplicates, outOfOrder);
        var baseline = new BaselineFigures("direct", Math.Round(direct.Throughput), direct.Latency, Math.Round(rss, 1));
        return new BenchResult("offline", new Dictionary<string, object>
            {
                ["clients"] = pairs * 2, ["messages"] = pairs * perSender, ["inflight_per_sender"] = options.InFlight,
                ["body_bytes"] = options.BodyBytes, ["journal"] = options.Journal, ["quick"] = options.Quick,
            },
            natter, baseline, new Ratio(Math.Round(natter.ThroughputPerS / Math.Max(1, baseline.ThroughputPerS), 3), null), MachineInfo.Current(),
            new Dictionary<string, object>
            {
                ["offline_send_throughput_per_s"] = Math.Round(acked / sendTime.TotalSeconds),
                ["drain_seconds"] = Math.Round(drainTime.TotalSeconds, 3),
            });
    }
}
