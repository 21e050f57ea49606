using Natter.Messages.Chats;

namespace Natter.Actors.Chats;

/// <summary>
/// The newest messages of a chat, kept in memory so live sync and gap fills need no journal read.
/// Held in seq order; a seq may be missing (a write the journal rejected while later ones were written), so
/// messages are found by search, not by arithmetic. Older messages are read from the journal.
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
        for (var i = FirstAbove(afterSeq); i < _count && result.Count < limit; i++)
        {
            var message = At(i);
            if (message.Seq > upToSeq) break;
            result.Add(message);
        }
        return result;
    }

    /// <summary>The message with this seq, if it is held here.</summary>
    public ChatMessage? Find(long seq) => FirstAbove(seq - 1) is var i && i < _count && At(i).Seq == seq ? At(i) : null;

    /// <summary>The position (0 = oldest) of the first message with seq above <paramref name="seq"/>, or Count.</summary>
    private int FirstAbove(long seq)
    {
        var (low, high) = (0, _count);
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (At(middle).Seq <= seq) low = middle + 1;
            else high = middle;
        }
        return low;
    }

    private ChatMessage At(int position) => _ring[(_head + position) % _ring.Length];

    public IEnumerable<ChatMessage> All()
    {
        for (var i = 0; i < _count; i++) yield return At(i);
    }
}
