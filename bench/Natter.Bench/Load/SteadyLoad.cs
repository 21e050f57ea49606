using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using Natter.Bench.Report;
using Natter.Client;
using Natter.Messages.Protocol;

namespace Natter.Bench.Load;

/// <summary>What a timed run of <see cref="SteadyLoad"/> saw.</summary>
/// <param name="Unacked">Sends never acknowledged, retries included, by the end of the run.</param>
/// <param name="Retries">Send attempts that got no ack within <see cref="SteadyLoad.AckTimeout"/> (or an error) and were sent again.</param>
/// <param name="LostLive">Acknowledged messages that had not arrived live when the run settled.</param>
/// <param name="Lost">Acknowledged messages still missing after every recipient synced: what a user would never see.</param>
/// <param name="LongestSendSeconds">The longest time from a message's first send to its ack.</param>
/// <param name="RecipientErrors">Error frames the recipients got, by code: a failed catch-up says "unavailable" with the chat id.</param>
public sealed record SteadyOutcome(long Acked, long Unacked, long Retries, long LostLive, long Lost, long Duplicates, long OutOfOrder,
    TimeSpan Elapsed, LatencyMs Latency, double LongestSendSeconds, LatencyRecorder Recorder, IReadOnlyDictionary<string, long> RecipientErrors)
{
    public double Throughput => Acked / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// Every lane sends one message at a time for a fixed time. A send without an ack within
/// <see cref="AckTimeout"/> is sent again under the same clientMsgId (the server dedupes it), as a client
/// does through a failover. Delivery latency runs from the first send, so a stall shows in it.
/// </summary>
public static class SteadyLoad
{
    public static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(90);
    private static long _run;

    /// <param name="during">Runs beside the load (the failure schedule), given the run's clock.</param>
    public static async Task<SteadyOutcome> RunAsync(IReadOnlyList<SenderLane> lanes, TimeSpan duration, int bodyBytes,
        Func<Stopwatch, Task>? during = null)
    {
        var prefix = $"s{Interlocked.Increment(ref _run)}-";
        var latency = new LatencyRecorder();
        var acked = new ConcurrentDictionary<string, long>();
        long unacked = 0, retries = 0, longestTicks = 0;
        var baseline = lanes.ToDictionary(l => l, l => l.Recipient.Received.Of(l.ChatId).Count);

        var recipientErrors = new ConcurrentDictionary<string, long>();
        void OnFrame(ServerFrame frame)
        {
            if (frame is MessageFrame m && m.ClientMsgId.StartsWith(prefix, StringComparison.Ordinal) && m.Body.Length >= 8)
                latency.RecordSince(BinaryPrimitives.ReadInt64LittleEndian(m.Body));
            else if (frame is ErrorFrame e) recipientErrors.AddOrUpdate(e.Code, 1, (_, n) => n + 1);
        }
        var recipients = lanes.Select(l => l.Recipient).Distinct().ToList();
        foreach (var recipient in recipients) recipient.FrameReceived += OnFrame;

        var clock = Stopwatch.StartNew();
        using var progress = Progress.Every(TimeSpan.FromSeconds(5), () =>
            $"  {clock.Elapsed.TotalSeconds:F0} s: acked {acked.Values.Sum()}, retries {Interlocked.Read(ref retries)}, arrivals {latency.Count}");
        var schedule = during?.Invoke(clock) ?? Task.CompletedTask;
        await Task.WhenAll(lanes.Select(async lane =>
        {
            for (var i = 0; clock.Elapsed < duration; i++)
            {
                var outcome = await SendUntilAckedAsync(lane, $"{prefix}{lane.Sender.Welcome.DeviceId}-{i}", bodyBytes, clock, () => Interlocked.Increment(ref retries));
                if (outcome is { } sendTicks)
                {
                    acked.AddOrUpdate(lane.ChatId, 1, (_, n) => n + 1);
                    InterlockedMax(ref longestTicks, sendTicks);
                }
                else
                {
                    Interlocked.Increment(ref unacked);
                    return;
                }
            }
        }));
        await schedule;
        var elapsed = clock.Elapsed;

        long Missing() => lanes.Sum(l => Math.Max(0, baseline[l] + acked.GetValueOrDefault(l.ChatId) - l.Recipient.Received.Of(l.ChatId).Count));
        var lostLive = await Arrivals.SettleAsync(Missing);
        if (lostLive > 0) DescribeLate(lanes, baseline, acked);
        // A device that missed a live push catches up on its next sync (a reconnect, or the next message of the chat).
        foreach (var recipient in recipients) await recipient.SyncAsync();
        var lost = await Arrivals.SettleAsync(Missing);
        foreach (var recipient in recipients) recipient.FrameReceived -= OnFrame;

        return new SteadyOutcome(acked.Values.Sum(), unacked, retries, lostLive, lost,
            recipients.Sum(r => (long)r.Received.Duplicates), recipients.Sum(r => (long)r.Received.OutOfOrder),
            elapsed, latency.Percentiles(), Math.Round(TimeSpan.FromTicks(longestTicks).TotalSeconds, 2), latency,
            recipientErrors.ToDictionary());
    }

    /// <summary>Ticks from the first send to the ack, or null if no ack came within <see cref="GiveUpAfter"/> or the socket closed.</summary>
    private static async Task<long?> SendUntilAckedAsync(SenderLane lane, string clientMsgId, int bodyBytes, Stopwatch clock, Action onRetry)
    {
        var body = new byte[Math.Max(8, bodyBytes)];
        MessageLoad.StampAt(body, Stopwatch.GetTimestamp());
        var first = clock.Elapsed;
        while (clock.Elapsed - first < GiveUpAfter)
        {
            using var timeout = new CancellationTokenSource(AckTimeout);
            try
            {
                if (await lane.Sender.SendPipelinedAsync(lane.ChatId, clientMsgId, body, timeout.Token) is AckFrame)
                    return (clock.Elapsed - first).Ticks;
            }
            catch (Exception e) when (e is OperationCanceledException or NatterApiException or TimeoutException)
            {
                // No ack in time, or "unavailable" while the entity moves: the same clientMsgId again.
            }
            catch (WebSocketException)
            {
                return null;
            }
            onRetry();
            await Task.Delay(RetryPause);
        }
        return null;
    }

    /// <summary>
    /// Where the late messages are: a hole below a message that did arrive (a gap the connection did not
    /// fill) or a tail (nothing arrived after them).
    /// </summary>
    private static void DescribeLate(IReadOnlyList<SenderLane> lanes, Dictionary<SenderLane, int> baseline, ConcurrentDictionary<string, long> acked)
    {
        var holes = 0;
        var tails = 0;
        foreach (var lane in lanes)
        {
            var received = lane.Recipient.Received.Of(lane.ChatId);
            if (baseline[lane] + acked.GetValueOrDefault(lane.ChatId) <= received.Count) continue;
            var highest = received.Count == 0 ? 0 : received[^1].Seq;
            var contiguous = lane.Recipient.Received.Cursors().GetValueOrDefault(lane.ChatId);
            if (contiguous < highest) holes++;
            else tails++;
            Console.Error.WriteLine($"  late in {lane.ChatId}: received {received.Count} (contiguous to {contiguous}, highest {highest}), acked {baseline[lane] + acked.GetValueOrDefault(lane.ChatId)}");
        }
        Console.Error.WriteLine($"lanes with late messages: {holes + tails} ({holes} with holes, {tails} missing a tail)");
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current) current = seen;
    }
}
