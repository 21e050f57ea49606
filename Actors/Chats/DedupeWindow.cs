namespace Natter.Actors.Chats;

/// <summary>
/// The last N clientMsgIds one device sent in one chat, with the seq each got. A resend inside the
/// window is answered with the original seq; the window is rebuilt from events on recovery.
/// </summary>
public sealed class DedupeWindow(int capacity)
{
    private readonly Dictionary<string, long> _seqById = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public bool TryGet(string clientMsgId, out long seq) => _seqById.TryGetValue(clientMsgId, out seq);

    public void Remember(string clientMsgId, long seq)
    {
        if (!_seqById.TryAdd(clientMsgId, seq)) return;
        _order.Enqueue(clientMsgId);
        if (_order.Count > capacity) _seqById.Remove(_order.Dequeue());
    }

    public IEnumerable<KeyValuePair<string, long>> Entries() => _order.Select(id => new KeyValuePair<string, long>(id, _seqById[id]));
}
