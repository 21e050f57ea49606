using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Natter.Bench.Report;

public sealed record LatencyMs(double P50, double P99, double P999);

public sealed record NatterFigures(
    double ThroughputPerS,
    LatencyMs LatencyMs,
    double RssMb,
    long Errors,
    long Lost,
    long Duplicates,
    long OutOfOrder);

public sealed record BaselineFigures(string Name, double ThroughputPerS, LatencyMs? LatencyMs, double RssMb);

public sealed record Ratio(double Throughput, double? P99);

public sealed record MachineInfo(int Cores, string Os, string Dotnet)
{
    public static MachineInfo Current() =>
        new(Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription);
}

/// <summary>The JSON object every scenario writes (the contract in ../shared/BENCHMARKS.md), plus scenario extras.</summary>
public sealed record BenchResult(
    string Scenario,
    Dictionary<string, object> Params,
    NatterFigures Natter,
    BaselineFigures? Baseline,
    Ratio? Ratio,
    MachineInfo Machine,
    Dictionary<string, object>? Extra = null)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static Ratio RatioOf(NatterFigures natter, BaselineFigures baseline) => new(
        Math.Round(natter.ThroughputPerS / Math.Max(baseline.ThroughputPerS, 1e-9), 3),
        baseline.LatencyMs is { P99: > 0 } b ? Math.Round(natter.LatencyMs.P99 / b.P99, 3) : null);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public void Print(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"scenario {Scenario}  ({string.Join(", ", Params.Select(p => $"{p.Key}={p.Value}"))})");
        output.WriteLine($"{"",-14}{"throughput/s",14}{"p50 ms",10}{"p99 ms",10}{"p99.9 ms",10}{"rss MB",10}");
        output.WriteLine($"{"natter",-14}{Natter.ThroughputPerS,14:F0}{Natter.LatencyMs.P50,10:F2}{Natter.LatencyMs.P99,10:F2}{Natter.LatencyMs.P999,10:F2}{Natter.RssMb,10:F1}");
        if (Baseline is { } b)
            output.WriteLine($"{b.Name,-14}{b.ThroughputPerS,14:F0}{b.LatencyMs?.P50,10:F2}{b.LatencyMs?.P99,10:F2}{b.LatencyMs?.P999,10:F2}{b.RssMb,10:F1}");
        if (Ratio is { } r) output.WriteLine($"ratio natter/baseline: throughput {r.Throughput:F3}, p99 {r.P99?.ToString("F3") ?? "-"}");
        output.WriteLine($"errors {Natter.Errors}, lost {Natter.Lost}, duplicates {Natter.Duplicates}, out of order {Natter.OutOfOrder}");
        foreach (var (key, value) in Extra ?? [])
        {
            if (value is List<object> peers)
                foreach (var peer in peers.OfType<Dictionary<string, object>>())
                {
                    var l = (LatencyMs)peer["latency_ms"];
                    var peerRatio = (Ratio)peer["ratio"];
                    output.WriteLine($"{peer["name"],-22}{peer["throughput_per_s"],10:F0}/s  p50 {l.P50:F2} p99 {l.P99:F2} ms  rss {peer["rss_mb"]} MB  natter/peer throughput {peerRatio.Throughput:F3}, p99 {peerRatio.P99:F3}");
                }
            else if (value is IEnumerable<DirectRound> rounds)
                foreach (var round in rounds) output.WriteLine(round);
            else if (value is System.Collections.IEnumerable items and not string)
                output.WriteLine($"{key}: {string.Join(", ", items.Cast<object>())}");
            else output.WriteLine($"{key}: {value}");
        }
    }
}
