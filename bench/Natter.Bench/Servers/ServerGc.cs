using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.EventPipe;

namespace Natter.Bench.Servers;

/// <summary>
/// Makes a .NET process run a full, blocking garbage collection, through its diagnostics port (as
/// dotnet-gcdump does): an EventPipe session that asks for the GC heap-collect keyword. Read after it,
/// the RSS holds what is live rather than how much garbage the last cycle left, which steadies a
/// per-connection figure. The same session reads what the collection left (the managed heap's size and what
/// in it is live) and the runtime's counters after it (the memory the collector holds committed, the thread
/// pool's threads), which together say how much of the RSS is objects, room the collector keeps, and the rest.
/// </summary>
public static class ServerGc
{
    private const long GcKeyword = 0x1;
    private const long GcHeapCollectKeyword = 0x800000;

    /// <summary>
    /// After the collection, in MB: the managed heap's size (all generations with the large and pinned object heaps,
    /// free space between objects included), what survived, and the memory the collector holds committed (0 if the
    /// runtime sent no counters); and the thread pool's threads.
    /// </summary>
    public sealed record HeapAfter(double SizeMb, double LiveMb, double CommittedMb, int PoolThreads);

    /// <summary>Runs the collection; returns the heap after it, or null if the process sent no heap statistics.</summary>
    public static async Task<HeapAfter?> CollectAsync(int processId)
    {
        var client = new DiagnosticsClient(processId);
        var gc = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GcKeyword | GcHeapCollectKeyword);
        var counters = new EventPipeProvider("System.Runtime", EventLevel.Informational, -1,
            new Dictionary<string, string> { ["EventCounterIntervalSec"] = "1" });
        using var session = client.StartEventPipeSession([gc, counters], requestRundown: false, circularBufferMB: 16);
        (double Size, double Live)? heap = null;
        double committedMb = 0;
        var poolThreads = 0;
        var fullCollectionRunning = false;
        var source = new EventPipeEventSource(session.EventStream);
        source.Clr.GCStart += start => fullCollectionRunning = start.Depth == 2;
        source.Clr.GCHeapStats += stats =>
        {
            // The first full collection's figures: the one the session asked for.
            if (!fullCollectionRunning || heap is not null) return;
            const double mb = 1024.0 * 1024.0;
            var size = stats.GenerationSize0 + stats.GenerationSize1 + stats.GenerationSize2 + stats.GenerationSize3 + stats.GenerationSize4;
            var live = stats.TotalPromotedSize0 + stats.TotalPromotedSize1 + stats.TotalPromotedSize2 + stats.TotalPromotedSize3
                       + stats.TotalPromotedSize4;
            heap = (size / mb, live / mb);
        };
        source.Dynamic.All += e =>
        {
            // Counters sampled once the collection is over: the latest reading wins.
            if (heap is null || e.EventName != "EventCounters" || e.PayloadValue(0) is not IDictionary<string, object> { } outer
                || outer.TryGetValue("Payload", out var inner) is false || inner is not IDictionary<string, object> counter) return;
            var name = counter.TryGetValue("Name", out var n) ? n as string : null;
            var mean = counter.TryGetValue("Mean", out var m) ? Convert.ToDouble(m) : 0;
            if (name == "gc-committed") committedMb = mean;
            else if (name == "threadpool-thread-count") poolThreads = (int)mean;
        };
        // Read the events (unread, they would fill the buffer) until the collection has ended and the counters
        // have been sampled after it, then let the freed memory be given back.
        var reading = Task.Run(() =>
        {
            try
            {
                source.Process();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or EndOfStreamException)
            {
                // The session ended under the reader.
            }
        });
        await Task.Delay(TimeSpan.FromSeconds(3));
        await session.StopAsync(CancellationToken.None);
        await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(5)));
        source.Dispose();
        await Task.Delay(TimeSpan.FromSeconds(2));
        return heap is { } h ? new HeapAfter(h.Size, h.Live, committedMb, poolThreads) : null;
    }
}
