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
                var a = await ConnectAsync(server, $"a{run}x{i}", addresses);
                var b = await ConnectAsync(server, $"b{run}x{i}", addresses);
                return new Pair(a, b);
            }
            finally
            {
                gate.Release();
            }
        }));
        return result.ToList();
    }

    private const int ConnectAttempts = 3;

    /// <summary>
    /// Logs a user in, on a new socket for each attempt: ejabberd has once left a stream open unanswered for the 30 s
    /// a step may take (PostgreSQL run of session 13, first round), which ended the whole run. Setting up is not
    /// measured, so a retry costs the figures nothing; a registration that already happened is accepted. A refused
    /// registration or login is not retried.
    /// </summary>
    private static async Task<XmppClient> ConnectAsync(EjabberdServer server, string user, LocalAddresses addresses)
    {
        for (var attempt = 1; ; attempt++)
        {
            var client = new XmppClient { User = user };
            try
            {
                await client.ConnectAsync(server.WebSocketUri, "secret", addresses.NextInvoker);
                return client;
            }
            catch (Exception e)
            {
                await client.DisposeAsync();
                // Only an answer that never came (NextAsync's timeout) or a broken socket; a refused login is final.
                if (attempt == ConnectAttempts || e is not (OperationCanceledException or System.Net.WebSockets.WebSocketException)) throw;
                Console.Error.WriteLine($"{server.Name}: connecting {user} failed ({e.Message}); attempt {attempt + 1} of {ConnectAttempts}");
            }
        }
    }

    /// <summary>A peer that delivers nothing for this long is given up on: the run reports what it delivered.</summary>
    public static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(60);

    public static async Task<LoadOutcome> RunAsync(IReadOnlyList<Pair> pairs, int perSender, int window)
    {
        var latency = new LatencyRecorder();
        long delivered = 0;
        long sent = 0;
        var started = Stopwatch.StartNew();
        var slots = pairs.ToDictionary(p => p, _ => new SemaphoreSlim(window));
        foreach (var pair in pairs)
        {
            pair.Recipient.OnMessage = body =>
            {
                latency.RecordSince(long.Parse(body));
                Interlocked.Increment(ref delivered);
                slots[pair].Release();
            };
        }
        using var stalled = new CancellationTokenSource();
        using (Progress.Every(TimeSpan.FromSeconds(2), () => $"  delivered {Interlocked.Read(ref delivered)} / {pairs.Count * (long)perSender}"))
        {
            var watchdog = GiveUpWhenStalledAsync(() => Interlocked.Read(ref delivered), stalled);
            await Task.WhenAll(pairs.Select(async pair =>
            {
                try
                {
                    for (var i = 0; i < perSender; i++)
                    {
                        await slots[pair].WaitAsync(stalled.Token);
                        await pair.Sender.SendMessageAsync(pair.Recipient.Jid, $"m{i}", Stopwatch.GetTimestamp().ToString());
                        Interlocked.Increment(ref sent);
                    }
                }
                catch (OperationCanceledException) when (stalled.IsCancellationRequested)
                {
                    // Given up on: the rest of this pair's messages are never sent.
                }
            }));
            // Everything sent must arrive; a peer that stops delivering for 20 s is given up on here too.
            await Arrivals.SettleAsync(() => Interlocked.Read(ref sent) - Interlocked.Read(ref delivered));
            await stalled.CancelAsync();
            await watchdog;
        }
        var elapsed = started.Elapsed;
        foreach (var pair in pairs) pair.Recipient.OnMessage = null;
        var unsent = pairs.Count * (long)perSender - sent;
        if (unsent > 0)
            Console.Error.WriteLine($"  gave up: nothing delivered for {StallLimit.TotalSeconds} s; {unsent} messages never sent");
        // Unsent messages count as errors, so a stalled peer's figures are marked as not a complete run.
        return new LoadOutcome(delivered, unsent, Math.Max(0, sent - delivered), 0, 0, elapsed, latency.Percentiles())
        {
            Recorder = latency,
        };
    }

    private static async Task GiveUpWhenStalledAsync(Func<long> progress, CancellationTokenSource stalled)
    {
        var last = progress();
        var quiet = Stopwatch.StartNew();
        while (!stalled.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), stalled.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var now = progress();
            if (now != last)
            {
                last = now;
                quiet.Restart();
            }
            else if (quiet.Elapsed >= StallLimit)
            {
                await stalled.CancelAsync();
            }
        }
    }
}
