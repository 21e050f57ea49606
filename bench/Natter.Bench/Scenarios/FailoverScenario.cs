using System.Diagnostics;
using Natter.Bench.Load;
using Natter.Bench.Report;
using Natter.Bench.Servers;

namespace Natter.Bench.Scenarios;

/// <summary>
/// A node process is killed under load, then started again. The cluster (node processes, an edge, on
/// PostgreSQL) carries steady 1:1 traffic for one phase with no failure (the baseline) and one in which
/// the last node is killed at a quarter of the phase and restarted at 60%. Clients resend unacknowledged
/// messages under the same clientMsgId. Nothing acknowledged may be lost, duplicated or reordered; the
/// figures are the throughput and delivery latency through the failure against the same load without it,
/// and the longest a send waited for its ack.
/// </summary>
public static class FailoverScenario
{
    public static async Task<BenchResult> RunAsync(BenchOptions options)
    {
        var pairs = Math.Max(1, options.Clients / 2);
        var phase = TimeSpan.FromSeconds(options.PhaseSeconds);
        await using var cluster = await NatterCluster.StartAsync(options.Nodes);
        var population = await Population.PairsAsync(cluster.Edge, pairs);
        var connections = await Population.ConnectAsync(cluster.Edge, population.SelectMany(p => new[] { p.A, p.B }));
        foreach (var c in connections) await c.SyncAsync();
        var lanes = population.Select((p, i) => new SenderLane(connections[2 * i], p.ChatId, connections[2 * i + 1])).ToList();

        Console.Error.WriteLine($"warm-up: {pairs} senders");
        await SteadyLoad.RunAsync(lanes, TimeSpan.FromSeconds(5), options.BodyBytes);
        Console.Error.WriteLine($"baseline: {pairs} senders for {phase.TotalSeconds:F0} s, no failure");
        var steady = await SteadyLoad.RunAsync(lanes, phase, options.BodyBytes);

        var victim = options.Nodes - 1;
        var killAt = phase * 0.25;
        var restartAt = phase * 0.6;
        Console.Error.WriteLine($"failover: the same load; node {victim} killed at {killAt.TotalSeconds:F0} s, restarted at {restartAt.TotalSeconds:F0} s");
        var failover = await SteadyLoad.RunAsync(lanes, phase, options.BodyBytes, async clock =>
        {
            await Task.Delay(Until(killAt, clock));
            Console.Error.WriteLine($"  {clock.Elapsed.TotalSeconds:F1} s: killing node {victim}");
            await cluster.KillNodeAsync(victim);
            await Task.Delay(Until(restartAt, clock));
            Console.Error.WriteLine($"  {clock.Elapsed.TotalSeconds:F1} s: starting node {victim} again");
            var restart = Stopwatch.StartNew();
            await cluster.StartNodeAsync(victim);
            Console.Error.WriteLine($"  node {victim} ready after {restart.Elapsed.TotalSeconds:F1} s");
        });
        var rss = ProcessMemory.RssMb(cluster.Edge.ProcessId);
        // Every process's warnings beside the JSON: what the cluster said while it lost a member.
        if (options.Json is { } logsFor) cluster.SaveLogs(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(logsFor))!, "failover-logs"));
        foreach (var c in connections) await c.DisposeAsync();

        var natter = new NatterFigures(Math.Round(failover.Throughput), failover.Latency, Math.Round(rss, 1),
            failover.Unacked + steady.Unacked, failover.Lost + steady.Lost, failover.Duplicates, failover.OutOfOrder);
        var baseline = new BaselineFigures("no-failure", Math.Round(steady.Throughput), steady.Latency, Math.Round(rss, 1));
        var plots = options.Json is { } json
            ? string.Join(", ", Plots.Save(json, "failover", [SeriesOf("natter (node killed)", failover), SeriesOf("natter (no failure)", steady)])
                .Select(Path.GetFileName))
            : "";
        return new BenchResult("failover",
            new Dictionary<string, object>
            {
                ["clients"] = pairs * 2, ["nodes"] = options.Nodes, ["phase_seconds"] = options.PhaseSeconds,
                ["kill_at_s"] = Math.Round(killAt.TotalSeconds, 1), ["restart_at_s"] = Math.Round(restartAt.TotalSeconds, 1),
                ["journal"] = "postgres", ["ack_timeout_s"] = SteadyLoad.AckTimeout.TotalSeconds,
            },
            natter, baseline, BenchResult.RatioOf(natter, baseline), MachineInfo.Current(),
            new Dictionary<string, object>
            {
                ["what_rss_means"] = "the edge process (the nodes are separate processes)",
                ["longest_send_s"] = failover.LongestSendSeconds,
                ["baseline_longest_send_s"] = steady.LongestSendSeconds,
                ["retries"] = failover.Retries,
                ["recipient_errors"] = failover.RecipientErrors.Count == 0 ? "none"
                    : string.Join(", ", failover.RecipientErrors.Select(e => $"{e.Key} {e.Value}")),
                ["lost_live"] = failover.LostLive,
                ["baseline_lost_live"] = steady.LostLive,
                ["acked"] = failover.Acked,
                ["baseline_acked"] = steady.Acked,
                ["plots"] = plots,
            });
    }

    private static TimeSpan Until(TimeSpan at, Stopwatch clock) => at > clock.Elapsed ? at - clock.Elapsed : TimeSpan.Zero;

    private static Plots.Series SeriesOf(string name, SteadyOutcome outcome)
    {
        var load = new LoadOutcome(outcome.Acked, outcome.Unacked, outcome.Lost, outcome.Duplicates, outcome.OutOfOrder, outcome.Elapsed,
            outcome.Latency) { Recorder = outcome.Recorder };
        return new Plots.Series(name, load, load);
    }
}
