using System.Diagnostics;
using Natter.Bench.Load;
using Natter.Bench.Report;

namespace Natter.Bench.Peers;

/// <summary>
/// The direct load against an XMPP server: pairs of users, each sender keeping a window of messages
/// that have not yet reached the recipient (XMPP has no per-message server ack without XEP-0198, so
/// delivery is what frees a slot). Latency is send to arrival, one process, one clock.
/// </summary>
public static class XmppLoad
{
    public sealed record Pair(XmppClient Sender, XmppClient Recipient);

    public static async Task<List<Pair>> ConnectPairsAsync(EjabberdServer server, int pairs, LocalAddresses addresses)
    {
        var run = Guid.NewGuid().ToString("N")[..6];
        using var gate = new SemaphoreSlim(16);
        var result = await Task.WhenAll(Enumerable.Range(0, pairs).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var a = new XmppClient { User = $"a{run}x{i}" };
                var b = new XmppClient { User = $"b{run}x{i}" };
                await a.ConnectAsync(server.WebSocketUri, "secret", addresses.NextInvoker);
                await b.ConnectAsync(server.WebSocketUri, "secret", addresses.NextInvoker);
                return new Pair(a, b);
            }
            finally
            {
                gate.Release();
            }
        }));
        return result.ToList();
    }

    public static async Task<LoadOutcome> RunAsync(IReadOnlyList<Pair> pairs, int perSender, int window)
    {
        var latency = new LatencyRecorder();
        long delivered = 0;
        var started = Stopwatch.StartNew();
        var slots = pairs.ToDictionary(p => p, _ => new SemaphoreSlim(window));
        var remaining = pairs.ToDictionary(p => p, _ => new CountdownEvent(perSender));
        foreach (var pair in pairs)
        {
            pair.Recipient.OnMessage = body =>
            {
                latency.RecordSince(long.Parse(body));
                Interlocked.Increment(ref delivered);
                slots[pair].Release();
                remaining[pair].Signal();
            };
        }
        using (Progress.Every(TimeSpan.FromSeconds(2), () => $"  delivered {Interlocked.Read(ref delivered)} / {pairs.Count * (long)perSender}"))
        {
            await Task.WhenAll(pairs.Select(async pair =>
            {
                for (var i = 0; i < perSender; i++)
                {
                    await slots[pair].WaitAsync();
                    await pair.Sender.SendMessageAsync(pair.Recipient.Jid, $"m{i}", Stopwatch.GetTimestamp().ToString());
                }
                await Task.Run(() => remaining[pair].Wait(TimeSpan.FromSeconds(60)));
            }));
        }
        var elapsed = started.Elapsed;
        foreach (var pair in pairs) pair.Recipient.OnMessage = null;
        var sent = pairs.Count * (long)perSender;
        return new LoadOutcome(delivered, 0, Math.Max(0, sent - delivered), 0, 0, elapsed, latency.Percentiles())
        {
            Recorder = latency,
        };
    }
}
