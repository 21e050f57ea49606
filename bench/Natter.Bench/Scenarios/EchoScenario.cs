using Natter.Bench.Report;

namespace Natter.Bench.Scenarios;

/// <summary>Raw Kestrel WebSocket round trips: the ceiling of this stack on this machine.</summary>
public static class EchoScenario
{
    public static async Task<BenchResult> RunAsync(BenchOptions options)
    {
        var echo = await DirectScenario.EchoBaseline(options, options.Clients, Math.Max(1, options.Messages / options.Clients) * 2);
        var asNatter = new NatterFigures(echo.ThroughputPerS, echo.LatencyMs!, echo.RssMb, 0, 0, 0, 0);
        return new BenchResult("echo", new Dictionary<string, object>
        {
            ["clients"] = options.Clients, ["messages"] = options.Messages, ["inflight_per_client"] = options.InFlight,
            ["latency_inflight"] = options.LatencyInFlight, ["quick"] = options.Quick,
        }, asNatter, null, null, MachineInfo.Current(), new Dictionary<string, object> { ["note"] = "natter figures here are the echo server's own" });
    }
}
