using System.Diagnostics;

namespace Natter.Bench.Servers;

/// <summary>
/// CPU per message of one phase, split between the server, its database when that runs as its own processes
/// (PostgreSQL), and this process (the load generator): on two cores shared by all of them, a saturated phase's
/// throughput and latency depend on each one's share.
/// </summary>
public sealed class CpuSplit
{
    private readonly int _serverPid;
    private readonly int? _databasePid;
    private readonly double _serverBefore;
    private readonly double _databaseBefore;
    private readonly TimeSpan _generatorBefore;

    private CpuSplit(int serverPid, int? databasePid)
    {
        _serverPid = serverPid;
        _databasePid = databasePid;
        _serverBefore = ProcessCpu.Seconds(serverPid);
        _databaseBefore = databasePid is { } db ? ProcessCpu.TreeSeconds(db) : 0;
        _generatorBefore = Process.GetCurrentProcess().TotalProcessorTime;
    }

    /// <param name="databasePid">PostgreSQL's postmaster, whose backends do the journal's work; null for SQLite (in the server).</param>
    public static CpuSplit Start(int serverPid, int? databasePid = null) => new(serverPid, databasePid);

    /// <summary>Milliseconds of CPU per message since <see cref="Start"/>; the database's is null when it runs in the server.</summary>
    public Share PerMessage(long messages)
    {
        var count = Math.Max(1, messages);
        double PerMessage(double seconds) => Math.Round(seconds * 1000 / count, 4);
        var server = ProcessCpu.Seconds(_serverPid) - _serverBefore;
        var generator = (Process.GetCurrentProcess().TotalProcessorTime - _generatorBefore).TotalSeconds;
        double? database = _databasePid is { } db ? PerMessage(ProcessCpu.TreeSeconds(db) - _databaseBefore) : null;
        return new Share(PerMessage(server), database, PerMessage(generator));
    }

    public sealed record Share(double ServerMs, double? DatabaseMs, double GeneratorMs);
}
