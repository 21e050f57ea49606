namespace Natter.Bench.Report;

/// <summary>
/// Figures of repeated runs folded into one: speeds and latencies by their median (this machine's speed drifts
/// within minutes, so a mean follows its slow stretches), correctness counts by their sum (one lost message in any
/// run is a lost message).
/// </summary>
public static class Medians
{
    public static double Of(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToList();
        if (sorted.Count == 0) throw new ArgumentException("no samples", nameof(samples));
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    public static LatencyMs Of(IReadOnlyList<LatencyMs> runs) => new(
        Math.Round(Of(runs.Select(l => l.P50)), 3),
        Math.Round(Of(runs.Select(l => l.P99)), 3),
        Math.Round(Of(runs.Select(l => l.P999)), 3));

    public static NatterFigures Of(IReadOnlyList<NatterFigures> runs) => runs is [var one] ? one : new(
        Math.Round(Of(runs.Select(r => r.ThroughputPerS))),
        Of(runs.Select(r => r.LatencyMs).ToList()),
        Math.Round(Of(runs.Select(r => r.RssMb)), 1),
        runs.Sum(r => r.Errors), runs.Sum(r => r.Lost), runs.Sum(r => r.Duplicates), runs.Sum(r => r.OutOfOrder));

    public static BaselineFigures Of(IReadOnlyList<BaselineFigures> runs) => runs is [var one] ? one : new(
        runs[0].Name,
        Math.Round(Of(runs.Select(r => r.ThroughputPerS))),
        runs.All(r => r.LatencyMs is not null) ? Of(runs.Select(r => r.LatencyMs!).ToList()) : null,
        Math.Round(Of(runs.Select(r => r.RssMb)), 1));

    /// <summary>Each key's median over the runs that have it (per-message CPU figures and the like).</summary>
    public static Dictionary<string, object> Of(IReadOnlyList<Dictionary<string, object>> runs) => runs is [var one] ? one :
        runs.SelectMany(r => r.Keys).Distinct().ToDictionary(key => key,
            key => (object)Math.Round(Of(runs.Where(r => r.ContainsKey(key)).Select(r => Convert.ToDouble(r[key]))), 4));

    /// <summary>The run whose throughput is nearest the median: the one to plot.</summary>
    public static int IndexOfMedian(IReadOnlyList<double> throughputs)
    {
        var median = Of(throughputs);
        return throughputs.Select((t, i) => (Distance: Math.Abs(t - median), Index: i)).MinBy(x => x.Distance).Index;
    }
}
