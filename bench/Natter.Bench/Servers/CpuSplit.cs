using System.Diagnostics;

namespace Natter.Bench.Servers;

/// <summary>
/// CPU per message of one phase, split between the server and this process (the load generator): on two cores
/// shared by both, a saturated phase's throughput and latency depend on each side's share.
/// </summary>
public sealed class CpuSplit
{
    private readonly int _serverPid;
    private readonly double _serverBefore;
    private readonly TimeSpan _generatorBefore;

    private CpuSplit(int serverPid)
    {
        _serverPid = serverPid;
        _serverBefore = ProcessCpu.Seconds(serverPid);
        _generatorBefore = Process.GetCurrentProcess().TotalProcessorTime;
    }

    public static CpuSplit Start(int serverPid) => new(serverPid);

    /// <summary>Milliseconds of CPU per message for the server and the generator since <see cref="Start"/>.</summary>
    public (double ServerMs, double GeneratorMs) PerMessage(long messages)
    {
        var server = ProcessCpu.Seconds(_serverPid) - _serverBefore;
        var generator = (Process.GetCurrentProcess().TotalProcessorTime - _generatorBefore).TotalSeconds;
        var count = Math.Max(1, messages);
        return (Math.Round(server * 1000 / count, 4), Math.Round(generator * 1000 / count, 4));
    }
}
