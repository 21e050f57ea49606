namespace Natter.Bench.Report;

/// <summary>One round of a repeated `direct` run (--repeat): the spread behind its medians.</summary>
public sealed record DirectRound(int Round, RoundFigures Natter, RoundFigures Echo, RoundFigures? Peer)
{
    public override string ToString()
    {
        var line = $"round {Round}: {Natter} | {Echo}";
        if (Peer is null) return line;
        var p99 = Peer.LatencyMs.P99 > 0 ? $"{Natter.LatencyMs.P99 / Peer.LatencyMs.P99:F3}" : "-";
        return $"{line} | {Peer} | natter/{Peer.Name} throughput {Natter.ThroughputPerS / Math.Max(Peer.ThroughputPerS, 1e-9):F3}, p99 {p99}";
    }
}

public sealed record RoundFigures(string Name, double ThroughputPerS, LatencyMs LatencyMs)
{
    public override string ToString() => $"{Name} {ThroughputPerS:F0}/s p99 {LatencyMs.P99:F2}";
}
