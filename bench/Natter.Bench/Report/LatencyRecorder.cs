using System.Diagnostics;
using HdrHistogram;

namespace Natter.Bench.Report;

/// <summary>Exact latency percentiles (HdrHistogram, microsecond resolution) from one process's clock.</summary>
public sealed class LatencyRecorder
{
    // Microseconds, up to 5 minutes, 3 significant digits.
    private readonly LongHistogram _histogram = new(300_000_000L, 3);
    private readonly object _gate = new();

    public static long Now() => Stopwatch.GetTimestamp();

    public void RecordSince(long startTimestamp)
    {
        var micros = Math.Max(1, (long)Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds);
        lock (_gate) _histogram.RecordValue(Math.Min(micros, _histogram.HighestTrackableValue));
    }

    public long Count
    {
        get { lock (_gate) return _histogram.TotalCount; }
    }

    public LatencyMs Percentiles()
    {
        lock (_gate)
        {
            if (_histogram.TotalCount == 0) return new LatencyMs(0, 0, 0);
            double At(double p) => Math.Round(_histogram.GetValueAtPercentile(p) / 1000.0, 3);
            return new LatencyMs(At(50), At(99), At(99.9));
        }
    }
}
