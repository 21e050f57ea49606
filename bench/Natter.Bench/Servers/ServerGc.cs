using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace Natter.Bench.Servers;

/// <summary>
/// Makes a .NET process run a full, blocking garbage collection, through its diagnostics port (as
/// dotnet-gcdump does): an EventPipe session that asks for the GC heap-collect keyword. Read after it,
/// the RSS holds what is live rather than how much garbage the last cycle left, which steadies a
/// per-connection figure.
/// </summary>
public static class ServerGc
{
    private const long GcKeyword = 0x1;
    private const long GcHeapCollectKeyword = 0x800000;

    public static async Task CollectAsync(int processId)
    {
        var client = new DiagnosticsClient(processId);
        var provider = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GcKeyword | GcHeapCollectKeyword);
        using var session = client.StartEventPipeSession([provider], requestRundown: false, circularBufferMB: 16);
        // The collection runs as the session starts; drain its events (unread, they would fill the buffer)
        // for long enough that it has ended, then let the freed memory be given back.
        using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await session.EventStream.CopyToAsync(Stream.Null, drain.Token);
        }
        catch (OperationCanceledException)
        {
        }
        await session.StopAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(2));
    }
}
