using Natter.Messages.Protocol;

namespace Natter.Client;

/// <summary>
/// What a device has received, deduplicated by (chatId, seq) as the protocol asks of clients. It keeps
/// the cursors to send on reconnect and counts duplicates and out-of-order arrivals for checks.
/// </summary>
public sealed class ReceivedMessages
{
    private readonly object _gate = new();
    private readonly Dictionary<string, SortedDictionary<long, MessageFrame>> _byChat = new();
    private readonly Dictionary<string, long> _lastArrived = new();
    private readonly HashSet<(string ChatId, long Seq)> _fromAcks = new();
    // Per chat, a seq up to which a sync from this device's own cursor pushed everything there is.
    private readonly Dictionary<string, long> _caughtUpTo = new();
    private readonly List<(Func<bool> Done, TaskCompletionSource Signal)> _waiters = new();

    public int Duplicates { get; private set; }
    public int OutOfOrder { get; private set; }

    /// <summary>Records a message the server pushed; false if it was a duplicate.</summary>
    public bool Add(MessageFrame message) => Add(message, pushed: true);

    /// <summary>
    /// Records this device's own message from its ack: the server pushes it no copy (protocol §6.3). Its ack is not
    /// a push, so it counts toward neither the order of pushes nor their duplicates.
    /// </summary>
    public void AddOwn(MessageFrame message) => Add(message, pushed: false);

    private bool Add(MessageFrame message, bool pushed)
    {
        lock (_gate)
        {
            if (!_byChat.TryGetValue(message.ChatId, out var chat)) _byChat[message.ChatId] = chat = new();
            if (pushed)
            {
                if (_lastArrived.TryGetValue(message.ChatId, out var last) && message.Seq < last) OutOfOrder++;
                _lastArrived[message.ChatId] = Math.Max(last, message.Seq);
            }
            if (!chat.TryAdd(message.Seq, message))
            {
                // The server's own copy of a message held from its ack (a sync sends it): not a second delivery.
                if (pushed && _fromAcks.Remove((message.ChatId, message.Seq))) chat[message.Seq] = message;
                else if (pushed) Duplicates++;
                return false;
            }
            if (!pushed) _fromAcks.Add((message.ChatId, message.Seq));
            foreach (var waiter in _waiters.Where(w => w.Done()).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Signal.TrySetResult();
            }
            return true;
        }
    }

    public IReadOnlyList<MessageFrame> Of(string chatId)
    {
        lock (_gate) return _byChat.TryGetValue(chatId, out var chat) ? chat.Values.ToList() : [];
    }

    /// <summary>
    /// Per chat, the highest seq below which nothing is missing: what to send in a sync. Missing means not received and
    /// not known to be absent: seqs a sync's catch-up skipped (one the server's log lacks, or before a group join) count
    /// as there (<see cref="CaughtUp"/>).
    /// </summary>
    public Dictionary<string, long> Cursors()
    {
        lock (_gate)
        {
            var cursors = new Dictionary<string, long>();
            foreach (var (chatId, chat) in _byChat)
            {
                var contiguous = _caughtUpTo.GetValueOrDefault(chatId);
                foreach (var seq in chat.Keys)
                {
                    if (seq <= contiguous) continue;
                    if (seq != contiguous + 1) break;
                    contiguous = seq;
                }
                cursors[chatId] = contiguous;
            }
            return cursors;
        }
    }

    /// <summary>
    /// A sync from the cursors of <paramref name="named"/> chats has ended: in each of them, every message up to the
    /// summary's last seq was pushed (protocol §6.3), so the cursor may pass seqs that never came.
    /// </summary>
    public void CaughtUp(IEnumerable<string> named, IReadOnlyList<ChatCatchUp> summary)
    {
        lock (_gate)
        {
            var chats = named.ToHashSet();
            foreach (var caughtUp in summary.Where(s => chats.Contains(s.ChatId)))
                _caughtUpTo[caughtUp.ChatId] = Math.Max(_caughtUpTo.GetValueOrDefault(caughtUp.ChatId), caughtUp.LastSeq);
        }
    }

    /// <summary>Completes when the chat holds at least <paramref name="count"/> distinct messages.</summary>
    public Task WaitForCountAsync(string chatId, int count, TimeSpan timeout)
    {
        lock (_gate)
        {
            bool Done() => _byChat.TryGetValue(chatId, out var chat) && chat.Count >= count;
            if (Done()) return Task.CompletedTask;
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((Done, signal));
            return signal.Task.WaitAsync(timeout);
        }
    }
}
