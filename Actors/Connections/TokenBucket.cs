namespace Natter.Actors.Connections;

/// <summary>A rate limit: up to <c>burst</c> at once, refilled at <c>perSecond</c>. Not thread-safe (one actor owns it).</summary>
public sealed class TokenBucket(int burst, double perSecond)
{
    private double _tokens = burst;
    private DateTimeOffset _refilledAt = DateTimeOffset.MinValue;

    public bool TryTake(DateTimeOffset now)
    {
        if (_refilledAt != DateTimeOffset.MinValue)
            _tokens = Math.Min(burst, _tokens + (now - _refilledAt).TotalSeconds * perSecond);
        _refilledAt = now;
        if (_tokens < 1) return false;
        _tokens -= 1;
        return true;
    }
}
