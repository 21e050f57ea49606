using Natter.Messages.Chats;

namespace Natter.Actors.Chats;

/// <summary>
/// The newest messages of a chat, kept in memory so live sync and gap fills need no journal read.
/// Seqs are contiguous, so a message is found by arithmetic. Older messages are read from the journal.
/// Bounded by count and by bytes: a sealed message to a large group carries thousands of envelopes.
/// </summary>
public sealed class RecentMessages(int capacity, long maxBytes = RecentMessages.DefaultMaxBytes)
{
    /// <summary>Bodies and envelopes kept per chat, at most (the newest message is always kept).</summary>
    public const long DefaultMaxBytes = 16 * 1024 * 1024;

    private readonly ChatMessage[] _ring = new ChatMessage[capacity];
    private int _count;
    private int _head; // index of the oldest
    private long _bytes;

    public long OldestSeq => _count == 0 ? 0 : _ring[_head].Seq;

    public int Count => _count;

    public void Add(ChatMessage message)
    {
        if (_count == _ring.Length) DropOldest();
        _ring[(_head + _count) % _ring.Length] = message;
        _count++;
        _bytes += SizeOf(message);
        while (_bytes > maxBytes && _count > 1) DropOldest();
    }

    private void DropOldest()
    {
        _bytes -= SizeOf(_ring[_head]);
        _ring[_head] = null!;
        _head = (_head + 1) % _ring.Length;
        _count--;
    }

    private static long SizeOf(ChatMessage m) => m.Body.Length + (m.Envelopes?.Sum(e => e.Data.Length + 16L) ?? 0);

    /// <summary>True when every message with seq greater than <paramref name="afterSeq"/> is held here.</summary>
    public bool CoversAfter(long afterSeq) => _count > 0 && afterSeq + 1 >= OldestSeq;

    /// <summary>Messages with afterSeq &lt; seq &lt;= upToSeq, oldest first, at most <paramref name="limit"/>.</summary>
    public List<ChatMessage> After(long afterSeq, long upToSeq, int limit)
    {
        var result = new List<ChatMessage>(Math.Min(limit, _count));
        if (_count == 0) return result;
        var start = Math.Max(afterSeq + 1, OldestSeq);
        for (var seq = start; seq <= upToSeq && result.Count < limit; seq++)
        {
            var offset = seq - OldestSeq;
            if (offset >= _count) break;
            result.Add(_ring[(_head + (int)offset) % _ring.Length]);
        }
        return result;
    }

    public IEnumerable<ChatMessage> All()
    {
        for (var i = 0; i < _count; i++) yield return _ring[(_head + i) % _ring.Length];
    }
}
