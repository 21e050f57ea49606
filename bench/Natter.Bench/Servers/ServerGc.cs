using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.EventPipe;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

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
    private const double Mib = 1024.0 * 1024.0;

    /// <summary>
    /// After the collection, in MiB: the managed heap's size (all generations with the large and pinned object heaps,
    /// free space between objects included), what survived, and the memory the collector holds committed (null if
    /// the runtime sent no counter); and the thread pool's threads.
    /// </summary>
    public sealed record HeapAfter(double SizeMb, double LiveMb, double? CommittedMb, int PoolThreads);

    /// <summary>Runs the collection; returns the heap after it, or null if its statistics could not be read.</summary>
    public static async Task<HeapAfter?> CollectAsync(int processId)
    {
        var client = new DiagnosticsClient(processId);
        var gc = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GcKeyword | GcHeapCollectKeyword);
        var counters = new EventPipeProvider("System.Runtime", EventLevel.Informational, -1,
            new Dictionary<string, string> { ["EventCounterIntervalSec"] = "1" });
        using var session = client.StartEventPipeSession([gc, counters], requestRundown: false, circularBufferMB: 16);
        // Read the events (unread, they would fill the buffer) on a thread of their own: the reader blocks, and the
        // pool of a harness measuring several processes at once has few threads to spare.
        var reading = Task.Factory.StartNew(() => Read(session.EventStream), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // Until the collection has ended and the counters have been sampled after it; then the session ends, which
        // ends the reader, and the freed memory gets 2 s to be given back.
        await Task.Delay(TimeSpan.FromSeconds(3));
        HeapAfter? heap = null;
        try
        {
            await session.StopAsync(CancellationToken.None);
            heap = await reading.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or IOException or ServerNotAvailableException)
        {
            Console.Error.WriteLine($"  no heap statistics from process {processId}: {e.Message}");
        }
        await Task.Delay(TimeSpan.FromSeconds(2));
        return heap;
    }

    private static HeapAfter? Read(Stream events)
    {
        (double Size, double Live)? heap = null;
        double? committedMb = null;
        var poolThreads = 0;
        var inducedRunning = false;
        try
        {
            using var source = new EventPipeEventSource(events);
            // The collection the session asked for: full and blocking (a background collection is full too).
            source.Clr.GCStart += start => inducedRunning = start.Depth == 2 && start.Type != GCType.BackgroundGC;
            source.Clr.GCHeapStats += stats =>
            {
                if (!inducedRunning || heap is not null) return;
                var size = stats.GenerationSize0 + stats.GenerationSize1 + stats.GenerationSize2 + stats.GenerationSize3 + stats.GenerationSize4;
                var live = stats.TotalPromotedSize0 + stats.TotalPromotedSize1 + stats.TotalPromotedSize2 + stats.TotalPromotedSize3
                           + stats.TotalPromotedSize4;
                heap = (size / Mib, live / Mib);
            };
            source.Dynamic.All += e =>
            {
                // Counters sampled once the collection is over: the latest reading wins.
                if (heap is null || e.EventName != "EventCounters" || e.PayloadValue(0) is not IDictionary<string, object> outer
                    || !outer.TryGetValue("Payload", out var inner) || inner is not IDictionary<string, object> counter) return;
                var name = counter.TryGetValue("Name", out var n) ? n as string : null;
                var mean = counter.TryGetValue("Mean", out var m) ? Convert.ToDouble(m) : 0;
                // The runtime reports gc-committed in decimal megabytes.
                if (name == "gc-committed") committedMb = mean * 1_000_000 / Mib;
                else if (name == "threadpool-thread-count") poolThreads = (int)mean;
            };
            source.Process();
        }
        catch (Exception e)
        {
            // The session ended under the reader, or the stream could not be read: whatever was read stands.
            if (heap is null) Console.Error.WriteLine($"  reading GC events failed: {e.Message}");
        }
        return heap is { } h ? new HeapAfter(h.Size, h.Live, committedMb, poolThreads) : null;
    }
}
