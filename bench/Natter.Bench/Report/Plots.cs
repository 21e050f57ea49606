using Natter.Bench.Load;

namespace Natter.Bench.Report;

/// <summary>PNG plots beside a result's JSON: throughput over time (saturation) and latency by percentile.</summary>
public static class Plots
{
    private static readonly double[] Percentiles = [50, 75, 90, 95, 99, 99.5, 99.9];

    public sealed record Series(string Name, LoadOutcome Saturation, LoadOutcome Latency);

    public static IReadOnlyList<string> Save(string jsonPath, string scenario, IReadOnlyList<Series> series)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(jsonPath))!;
        Directory.CreateDirectory(folder);
        var stem = Path.Combine(folder, Path.GetFileNameWithoutExtension(jsonPath));
        var throughputPng = $"{stem}-throughput.png";
        var latencyPng = $"{stem}-latency.png";

        var throughput = new ScottPlot.Plot();
        foreach (var s in series.Where(s => s.Saturation.Recorder is not null))
        {
            var ys = s.Saturation.Recorder!.ThroughputTimeline();
            var line = throughput.Add.Scatter(ys.Select((_, i) => i / 4.0).ToArray(), ys.Select(Log).ToArray());
            line.LegendText = s.Name;
            line.MarkerSize = 0;
        }
        throughput.Title($"{scenario}: delivered messages per second (saturation phase)");
        throughput.XLabel("seconds");
        throughput.YLabel("messages / s (log scale)");
        LogScale(throughput);
        throughput.ShowLegend();
        throughput.SavePng(throughputPng, 900, 450);

        var latency = new ScottPlot.Plot();
        var xs = Enumerable.Range(0, Percentiles.Length).Select(i => (double)i).ToArray();
        foreach (var s in series.Where(s => s.Latency.Recorder is not null))
        {
            var line = latency.Add.Scatter(xs, s.Latency.Recorder!.At(Percentiles).Select(Log).ToArray());
            line.LegendText = s.Name;
        }
        latency.Axes.Bottom.SetTicks(xs, Percentiles.Select(p => $"p{p}").ToArray());
        latency.Title($"{scenario}: latency by percentile (latency phase)");
        latency.YLabel("ms (log scale)");
        LogScale(latency);
        latency.ShowLegend();
        latency.SavePng(latencyPng, 900, 450);
        return [throughputPng, latencyPng];
    }

    // The servers compared differ by orders of magnitude, so values are plotted as log10 with labels in units.
    private static double Log(double value) => Math.Log10(Math.Max(value, 0.01));

    private static void LogScale(ScottPlot.Plot plot) =>
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("N2").TrimEnd('0').TrimEnd('.'),
        };
}
