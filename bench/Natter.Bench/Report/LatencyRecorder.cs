using System.Diagnostics;
using HdrHistogram;

namespace Natter.Bench.Report;

/// <summary>Exact latency percentiles (HdrHistogram, microsecond resolution) from one process's clock.</summary>
public sealed class LatencyRecorder
{
    // Microseconds, up to 5 minutes, 3 significant digits.
    private readonly LongHistogram _histogram = new(300_000_000L, 3);
    private readonly object _gate = new();
    private readonly long _created = Stopwatch.GetTimestamp();
    private readonly List<int> _perQuarterSecond = new();

    public void RecordSince(long startTimestamp)
    {
        var micros = Math.Max(1, (long)Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds);
        var bucket = (int)(Stopwatch.GetElapsedTime(_created).TotalMilliseconds / 250);
        lock (_gate)
        {
            _histogram.RecordValue(Math.Min(micros, _histogram.HighestTrackableValue));
            while (_perQuarterSecond.Count <= bucket) _perQuarterSecond.Add(0);
            _perQuarterSecond[bucket]++;
        }
    }

    /// <summary>Arrivals per second, in quarter-second steps from when the recorder was made.</summary>
    public double[] ThroughputTimeline()
    {
        lock (_gate) return _perQuarterSecond.Select(n => n * 4.0).ToArray();
    }

    /// <summary>Latency in ms at each percentile asked for.</summary>
    public double[] At(IReadOnlyList<double> percentiles)
    {
        lock (_gate)
            return percentiles.Select(p => _histogram.TotalCount == 0 ? 0 : _histogram.GetValueAtPercentile(p) / 1000.0).ToArray();
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
