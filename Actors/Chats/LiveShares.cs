using Natter.Messages;
using Natter.Messages.Chats;

namespace Natter.Actors.Chats;

/// <summary>
/// A chat's live-location shares that have not ended, by the seq of the message that started each, with the
/// latest position. In memory only: positions are ephemeral, and the shares are rebuilt from the recent
/// messages when the chat starts (a share stopped early and then the chat restarted runs until its end time).
/// </summary>
public sealed class LiveShares
{
    public sealed record Share(UserId Sharer, DateTimeOffset Until, byte[]? Latest, DateTimeOffset LatestAt);

    private readonly Dictionary<long, Share> _active = new();

    public void Start(long seq, UserId sharer, DateTimeOffset until) => _active[seq] = new Share(sharer, until, null, default);

    /// <summary>Records a position; false when there is no such active share of <paramref name="user"/>.</summary>
    public bool TryUpdate(long seq, UserId user, byte[] position, DateTimeOffset now)
    {
        if (!_active.TryGetValue(seq, out var share) || share.Sharer != user || now >= share.Until) return false;
        _active[seq] = share with { Latest = position, LatestAt = now };
        return true;
    }

    /// <summary>Ends a share; false when there was no such active share of <paramref name="user"/> (null: anyone's).</summary>
    public bool End(long seq, UserId? user = null)
    {
        if (!_active.TryGetValue(seq, out var share) || (user is { } u && share.Sharer != u)) return false;
        return _active.Remove(seq);
    }

    public IReadOnlyDictionary<long, Share> Active => _active;

    /// <summary>The latest positions, for a device catching up in the middle of a share.</summary>
    public IReadOnlyList<LivePosition> LatestPositions() =>
        _active.Where(kv => kv.Value.Latest is not null)
            .Select(kv => new LivePosition(kv.Key, kv.Value.Sharer, kv.Value.Latest!, kv.Value.LatestAt))
            .ToList();
}
