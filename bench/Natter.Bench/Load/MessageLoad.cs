using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using Natter.Bench.Report;
using Natter.Client;
using Natter.Messages.Protocol;

namespace Natter.Bench.Load;

/// <summary>One sending device, the chat it writes to, and the device that should receive everything it sends.</summary>
public sealed record SenderLane(NatterConnection Sender, string ChatId, NatterConnection Recipient);

public sealed record LoadOutcome(long Acked, long Errors, long Lost, long Duplicates, long OutOfOrder, TimeSpan Elapsed, LatencyMs Latency)
{
    /// <summary>The phase's latencies and arrival times, for plots.</summary>
    public LatencyRecorder? Recorder { get; init; }

    public double Throughput => Acked / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// Sends messages from every lane with a window of unacknowledged sends, stamps each body with the
/// send time, and times its arrival at the recipient (one process, one clock). Afterwards it counts
/// what was acknowledged but never arrived (lost), and what arrived twice or out of order.
/// </summary>
public static class MessageLoad
{
    private static long _run;

    public static void StampAt(Span<byte> body, long timestamp) => BinaryPrimitives.WriteInt64LittleEndian(body, timestamp);

    public static async Task<LoadOutcome> RunAsync(IReadOnlyList<SenderLane> lanes, int perSender, int window, int bodyBytes,
        bool startRecipientsNow = true)
    {
        var run = Interlocked.Increment(ref _run);
        var prefix = $"r{run}-";
        var latency = new LatencyRecorder();
        var acked = new ConcurrentDictionary<string, long>();
        long errors = 0;
        var baseline = lanes.ToDictionary(l => l, l => l.Recipient.Received.Of(l.ChatId).Count);

        void OnFrame(ServerFrame frame)
        {
            if (frame is MessageFrame m && m.ClientMsgId.StartsWith(prefix, StringComparison.Ordinal) && m.Body.Length >= 8)
                latency.RecordSince(BinaryPrimitives.ReadInt64LittleEndian(m.Body));
        }
        foreach (var recipient in lanes.Select(l => l.Recipient).Distinct()) recipient.FrameReceived += OnFrame;

        var started = Stopwatch.StartNew();
        using var progress = Progress.Every(TimeSpan.FromSeconds(2), () =>
            $"  sent+acked {acked.Values.Sum()} / {lanes.Count * (long)perSender}, latency samples {latency.Count}");
        await Task.WhenAll(lanes.Select(lane => SendLaneAsync(lane, prefix, perSender, window, bodyBytes, acked, () => Interlocked.Increment(ref errors))));

        // Everything acknowledged must arrive: wait for it, giving up after 20 s without progress.
        long Missing() => lanes.Sum(l => Math.Max(0, baseline[l] + acked.GetValueOrDefault(l.ChatId) - l.Recipient.Received.Of(l.ChatId).Count));
        var last = await Arrivals.SettleAsync(Missing);
        var elapsed = started.Elapsed;
        foreach (var recipient in lanes.Select(l => l.Recipient).Distinct()) recipient.FrameReceived -= OnFrame;

        var recipients = lanes.Select(l => l.Recipient).Distinct().ToList();
        return new LoadOutcome(acked.Values.Sum(), errors, last,
            recipients.Sum(r => (long)r.Received.Duplicates), recipients.Sum(r => (long)r.Received.OutOfOrder), elapsed, latency.Percentiles())
        {
            Recorder = latency,
        };
    }

    private static async Task SendLaneAsync(SenderLane lane, string prefix, int count, int window, int bodyBytes,
        ConcurrentDictionary<string, long> acked, Action onError)
    {
        using var slots = new SemaphoreSlim(window);
        var pending = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            await slots.WaitAsync();
            var body = new byte[Math.Max(8, bodyBytes)];
            StampAt(body, Stopwatch.GetTimestamp());
            var send = lane.Sender.SendPipelinedAsync(lane.ChatId, $"{prefix}{lane.Sender.Welcome.DeviceId}-{i}", body);
            pending.Add(send.ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully && t.Result is AckFrame) acked.AddOrUpdate(lane.ChatId, 1, (_, n) => n + 1);
                else onError();
                slots.Release();
            }, TaskContinuationOptions.ExecuteSynchronously));
        }
        await Task.WhenAll(pending);
    }
}
