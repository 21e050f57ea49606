namespace Natter.Client.Crypto;

/// <summary>
/// Keys of messages skipped over (arriving later, out of order), per (ratchet key, message number). Bounded:
/// past <see cref="MaxTotal"/> the oldest go, so a flood of gaps cannot grow a session without limit.
/// </summary>
internal sealed class SkippedMessageKeys
{
    public const int MaxTotal = 2000;

    // Insertion order is age; at most 2000 entries, so a list is simple and fast enough.
    private readonly List<SkippedMessageKey> _keys;

    public SkippedMessageKeys() : this([]) { }

    private SkippedMessageKeys(List<SkippedMessageKey> keys) => _keys = keys;

    public int Count => _keys.Count;
    public IReadOnlyList<SkippedMessageKey> Entries => _keys;

    public void Add(byte[] ratchetKey, uint messageNumber, byte[] messageKey)
    {
        _keys.Add(new SkippedMessageKey(ratchetKey, messageNumber, messageKey));
        if (_keys.Count > MaxTotal) _keys.RemoveAt(0);
    }

    /// <summary>The key, removed from the store: it decrypts one message only.</summary>
    public byte[]? Take(byte[] ratchetKey, uint messageNumber)
    {
        var index = _keys.FindIndex(k => k.MessageNumber == messageNumber && Bytes.Equal(k.RatchetKey, ratchetKey));
        if (index < 0) return null;
        var key = _keys[index].MessageKey;
        _keys.RemoveAt(index);
        return key;
    }

    public SkippedMessageKeys Clone() => new(new List<SkippedMessageKey>(_keys));
}

internal sealed record SkippedMessageKey(byte[] RatchetKey, uint MessageNumber, byte[] MessageKey);
