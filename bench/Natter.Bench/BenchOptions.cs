namespace Natter.Bench;

/// <summary>Command line: a scenario name, then --name value options (see README in docs/benchmarks.md).</summary>
public sealed record BenchOptions
{
    public required string Scenario { get; init; }
    public int Clients { get; init; } = 200;
    public int Messages { get; init; } = 50_000;
    public int InFlight { get; init; } = 8;
    public int LatencyInFlight { get; init; } = 100;
    public int BodyBytes { get; init; } = 100;
    public int Connections { get; init; } = 10_000;
    public int Events { get; init; } = 100_000;
    public int HoldSeconds { get; init; } = 20;

    /// <summary>Members of the group in the `group` scenario (WhatsApp's limit by default).</summary>
    public int Members { get; init; } = 1024;

    /// <summary>Size of the file in the `media` scenario.</summary>
    public long MediaBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>Messages sent to the group (and rounds of 1:1 sends in its baseline).</summary>
    public int Rounds { get; init; } = 100;

    /// <summary>Node processes in the `failover` scenario's cluster (the last one is killed).</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>Length of each of the `failover` scenario's two phases.</summary>
    public int PhaseSeconds { get; init; } = 90;
    public string Journal { get; init; } = "sqlite";

    /// <summary>
    /// `connections` also holds the connections on a cluster's edge-only process (one node behind it); `group` runs on such a
    /// cluster (PostgreSQL) instead of the embedded process.
    /// </summary>
    public bool EdgeOnly { get; init; }

    /// <summary>
    /// `connections` holds the connections on a cluster of this many edge-only processes (one node behind them),
    /// each fed by its own load-generator process: for more connections than one process may hold files.
    /// </summary>
    public int Edges { get; init; } = 1;

    /// <summary>
    /// `direct` measures Natter, the echo baseline and ejabberd's default configuration this many times, one after
    /// another in turn, and reports the medians: the machine's speed drifts within minutes, so one run each can
    /// land on a fast or slow stretch. ejabberd's archiving configuration, 40 times slower, runs once.
    /// </summary>
    public int Repeat { get; init; } = 1;

    /// <summary>
    /// `group` sends sealed: every member publishes keys, and each send carries an envelope of random bytes for every
    /// other member's device (the server checks the set, never the contents); the 1:1 baseline carries one each.
    /// </summary>
    public bool Sealed { get; init; }

    public bool Quick { get; init; }
    public string? Json { get; init; }
    public int? Port { get; init; }

    /// <summary>"ejabberd" adds Debian's ejabberd, in both configurations, to the `direct` scenario.</summary>
    public string? Peer { get; init; }

    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
            throw new ArgumentException("usage: Natter.Bench <echo|direct|offline|group|media|connections|recovery|failover> [--clients N] [--messages N] "
                                        + "[--inflight N] [--body-bytes N] [--members N] [--rounds N] [--media-mb N] [--connections N] [--events N] [--hold-seconds N] "
                                        + "[--nodes N] [--phase-seconds N] [--edge-only] [--edges N] [--sealed] "
                                        + "[--journal sqlite|postgres] [--peer ejabberd] [--repeat N] [--quick] [--json FILE]");
        var options = new BenchOptions { Scenario = args[0] };
        for (var i = 1; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--clients" => options with { Clients = int.Parse(Next()) },
                "--messages" => options with { Messages = int.Parse(Next()) },
                "--inflight" => options with { InFlight = int.Parse(Next()) },
                "--latency-inflight" => options with { LatencyInFlight = int.Parse(Next()) },
                "--body-bytes" => options with { BodyBytes = int.Parse(Next()) },
                "--connections" => options with { Connections = int.Parse(Next()) },
                "--events" => options with { Events = int.Parse(Next()) },
                "--hold-seconds" => options with { HoldSeconds = int.Parse(Next()) },
                "--members" => options with { Members = int.Parse(Next()) },
                "--rounds" => options with { Rounds = int.Parse(Next()) },
                "--nodes" => options with { Nodes = int.Parse(Next()) },
                "--phase-seconds" => options with { PhaseSeconds = int.Parse(Next()) },
                "--media-mb" => options with { MediaBytes = long.Parse(Next()) * 1024 * 1024 },
                "--journal" => options with { Journal = Next() },
                "--json" => options with { Json = Next() },
                "--port" => options with { Port = int.Parse(Next()) },
                "--peer" => options with { Peer = Next() },
                "--repeat" => options with { Repeat = Math.Max(1, int.Parse(Next())) },
                "--edge-only" => options with { EdgeOnly = true },
                "--sealed" => options with { Sealed = true },
                "--edges" => options with { Edges = int.Parse(Next()) },
                "--quick" => options with { Quick = true },
                var other => throw new ArgumentException($"unknown option {other}"),
            };
        }
        return options.Quick ? options.QuickVersion() : options;
    }

    /// <summary>A small run (well under a minute) for CI smoke tests: correctness figures only.</summary>
    private BenchOptions QuickVersion() => this with
    {
        Clients = Math.Min(Clients, 20),
        Messages = Math.Min(Messages, 2_000),
        Connections = Math.Min(Connections, 500),
        Events = Math.Min(Events, 3_000),
        HoldSeconds = Math.Min(HoldSeconds, 3),
        Members = Math.Min(Members, 64),
        Rounds = Math.Min(Rounds, 10),
        PhaseSeconds = Math.Min(PhaseSeconds, 45),
    };
}
