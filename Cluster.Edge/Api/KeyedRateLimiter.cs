using System.Threading.RateLimiting;
using Natter.Actors.Connections;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge;

/// <summary>At most a number of requests per key (a user, a phone number) and period, per edge process; a token bucket per key.</summary>
public class KeyedRateLimiter(int burst, int refill, TimeSpan period, string refusal)
{
    public KeyedRateLimiter(int permits, TimeSpan period, string refusal) : this(permits, permits, period, refusal)
    {
    }

    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = refill,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
        }));

    public bool TryTake(string key)
    {
        using var lease = _limiter.AttemptAcquire(key);
        return lease.IsAcquired;
    }

    public IResult Refusal => ApiErrors.Result(ErrorCodes.RateLimited, refusal);
}

/// <summary>
/// Bundle requests per user and minute (Natter:Keys:BundleClaimsPerMinute): each takes one-time prekeys,
/// so one caller must not drain everyone's.
/// </summary>
public sealed class BundleClaimLimiter(int perMinute)
    : KeyedRateLimiter(perMinute, TimeSpan.FromMinutes(1), $"at most {perMinute} bundle requests a minute");

/// <summary>
/// Unauthenticated account requests (register, verify, link) per phone number and hour
/// (Natter:Auth:AccountRequestsPerHour): a 6-digit code must not be guessable by asking for new codes
/// again and again, and strangers must not flood an account with link requests.
/// </summary>
public sealed class AccountRequestLimiter(int perHour)
    : KeyedRateLimiter(perHour, TimeSpan.FromHours(1), $"at most {perHour} account requests an hour for a phone number; try later");

/// <summary>
/// REST sends (POST /api/messages) per user and edge process, with the connections' send limit (Natter:Edge:SendBurst
/// and SendsPerSecond); off at 0. From one a second up, refilled with the rate rounded to whole sends every second (the
/// limiter adds one period's tokens per 100 ms sweep at most, so shorter periods would refill too slowly); below, one
/// send every so many seconds.
/// </summary>
public sealed class SendLimiter(ConnectionSettings settings) : KeyedRateLimiter(Math.Max(1, settings.SendBurst),
    settings.SendsPerSecond >= 1 ? (int)Math.Round(settings.SendsPerSecond) : 1,
    settings.SendsPerSecond is > 0 and < 1 ? TimeSpan.FromSeconds(1 / settings.SendsPerSecond) : TimeSpan.FromSeconds(1),
    ConnectionActor.SendLimitMessage(settings))
{
    public bool Allows(string user) => settings.SendsPerSecond <= 0 || TryTake(user);
}

/// <summary>
/// Every authenticated REST request, per user and edge process (Natter:Edge:RequestBurst at once, then
/// Natter:Edge:RequestsPerSecond): the routes without a limit of their own must not be hammered either. 0 turns it off.
/// Checked after the token, so a stranger cannot spend someone else's allowance.
/// </summary>
public sealed class RequestLimiter(int burst, int perSecond)
    : KeyedRateLimiter(Math.Max(1, burst), Math.Max(1, perSecond), TimeSpan.FromSeconds(1),
        $"at most {burst} requests at once and {perSecond} a second; retry after a second")
{
    public bool Allows(string user) => perSecond <= 0 || TryTake(user);
}
