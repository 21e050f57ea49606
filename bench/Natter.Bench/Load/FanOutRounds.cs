using System.Collections.Concurrent;
using System.Diagnostics;
using Natter.Bench.Report;
using Natter.Client;
using Natter.Messages.Protocol;

namespace Natter.Bench.Load;

/// <summary>
/// Rounds of "one sender, every recipient must receive": a round starts when its sends go out and ends when
/// the last recipient has its message. It records each delivery (throughput over time, per-recipient latency)
/// and each round's time to the last recipient, and counts what never arrived or arrived twice or out of order.
/// </summary>
public sealed class FanOutRounds
{
    private sealed class Round(int recipients, long started)
    {
        public readonly long Started = started;
        public int Remaining = recipients;
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly ConcurrentDictionary<string, Round> _byClientMsgId = new();
    private readonly ConcurrentDictionary<(NatterConnection, string), long> _lastSeq = new();
    private long _duplicates;
    private long _outOfOrder;

    public LatencyRecorder Deliveries { get; } = new();
    public LatencyRecorder LastOfAll { get; } = new();
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long OutOfOrder => Interlocked.Read(ref _outOfOrder);

    /// <summary>Counts every message frame that reaches <paramref name="recipient"/> against its round.</summary>
    public void Watch(NatterConnection recipient) => recipient.FrameReceived += frame =>
    {
        if (frame is not MessageFrame m || !_byClientMsgId.TryGetValue(m.ClientMsgId, out var round)) return;
        var key = (recipient, m.ChatId);
        var last = _lastSeq.GetValueOrDefault(key);
        if (m.Seq == last) { Interlocked.Increment(ref _duplicates); return; }
        if (m.Seq < last) { Interlocked.Increment(ref _outOfOrder); return; }
        _lastSeq[key] = m.Seq;
        Deliveries.RecordSince(round.Started);
        if (Interlocked.Decrement(ref round.Remaining) != 0) return;
        LastOfAll.RecordSince(round.Started);
        round.Done.TrySetResult();
    };

    /// <summary>
    /// Runs one round: <paramref name="send"/> sends the messages named by <paramref name="clientMsgIds"/>, which
    /// <paramref name="recipients"/> deliveries must follow. Returns the deliveries still missing at the timeout.
    /// </summary>
    public async Task<int> RunAsync(IReadOnlyList<string> clientMsgIds, int recipients, Func<Task> send, TimeSpan timeout)
    {
        var round = new Round(recipients, Stopwatch.GetTimestamp());
        foreach (var id in clientMsgIds) _byClientMsgId[id] = round;
        await send();
        await Task.WhenAny(round.Done.Task, Task.Delay(timeout));
        foreach (var id in clientMsgIds) _byClientMsgId.TryRemove(id, out _);
        return Math.Max(0, Volatile.Read(ref round.Remaining));
    }
}
