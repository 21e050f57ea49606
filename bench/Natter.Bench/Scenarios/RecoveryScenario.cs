using System.Diagnostics;
using Natter.Bench.Load;
using Natter.Bench.Report;
using Natter.Bench.Servers;

namespace Natter.Bench.Scenarios;

/// <summary>
/// Start-to-first-reply of a chat holding --events messages after a server restart (kill, start): once
/// the restarted server has answered for another, small chat, the time to the first history page of the
/// big chat, which recovers its ChatActor.
/// With snapshots (every 1000 events) against the same journal replayed without them.
/// </summary>
public static class RecoveryScenario
{
    private const int Rounds = 3;

    public static async Task<BenchResult> RunAsync(BenchOptions options)
    {
        await using var server = await NatterServer.StartAsync(options);
        var pairs = await Population.PairsAsync(server.Process, 2);
        var (pair, warmUp) = (pairs[0], pairs[1]);
        await server.Process.Api.PostMessageAsync(warmUp.A.AccessToken, warmUp.ChatId, "warm-up", [1]);
        var connections = await Population.ConnectAsync(server.Process, [pair.A, pair.B]);
        Console.Error.WriteLine($"filling one chat with {options.Events} messages");
        var fill = await MessageLoad.RunAsync([new SenderLane(connections[0], pair.ChatId, connections[1])], options.Events, 256, options.BodyBytes);
        foreach (var c in connections) await c.DisposeAsync();

        var withSnapshots = await MeasureAsync(server, pair, warmUp, options.Events, new Dictionary<string, string?>());
        var withoutSnapshots = await MeasureAsync(server, pair, warmUp, options.Events,
            new Dictionary<string, string?> { ["Natter:Chat:RecoverFromSnapshots"] = "false" });

        var natter = new NatterFigures(0, new LatencyMs(withSnapshots, withSnapshots, withSnapshots),
            Math.Round(ProcessMemory.RssMb(server.Process.ProcessId), 1), fill.Errors, fill.Lost, fill.Duplicates, fill.OutOfOrder);
        var baseline = new BaselineFigures("replay-without-snapshots", 0, new LatencyMs(withoutSnapshots, withoutSnapshots, withoutSnapshots), 0);
        return new BenchResult("recovery", new Dictionary<string, object>
            {
                ["events"] = options.Events, ["rounds"] = Rounds, ["journal"] = options.Journal, ["quick"] = options.Quick,
            },
            natter, baseline, new Ratio(0, Math.Round(withSnapshots / Math.Max(withoutSnapshots, 1e-9), 3)), MachineInfo.Current(),
            new Dictionary<string, object>
            {
                ["first_reply_ms_with_snapshots_median"] = withSnapshots,
                ["first_reply_ms_without_snapshots_median"] = withoutSnapshots,
                ["fill_throughput_per_s"] = Math.Round(fill.Throughput),
                ["note"] = "latency figures are the median start-to-first-reply over the rounds",
            });
    }

    private static async Task<double> MeasureAsync(NatterServer server, Population.Pair pair, Population.Pair warmUp, int events,
        Dictionary<string, string?> settings)
    {
        var samples = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            await server.RestartAsync(settings);
            // A small chat first, so the process's first SQL use and first sharded reply (a second or two
            // of one-off start-up) are not counted as the big chat's recovery.
            await server.Process.Api.GetMessagesAsync(warmUp.B.AccessToken, warmUp.ChatId, limit: 1);
            var watch = Stopwatch.StartNew();
            var page = await server.Process.Api.GetMessagesAsync(pair.B.AccessToken, pair.ChatId, limit: 1);
            samples.Add(Math.Round(watch.Elapsed.TotalMilliseconds, 1));
            if (page.Messages.Count != 1 || page.Messages[0].Seq != events)
                throw new InvalidOperationException($"after recovery the chat's last seq is {page.Messages.FirstOrDefault()?.Seq}, expected {events}");
        }
        Console.Error.WriteLine($"  first reply after restart (ms): {string.Join(", ", samples)}");
        return Medians.Of(samples);
    }
}
