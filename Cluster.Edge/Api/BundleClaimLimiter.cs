using System.Threading.RateLimiting;
using Natter.Messages;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge;

/// <summary>
/// Bundle requests per user and minute (Natter:Keys:BundleClaimsPerMinute): each takes one-time prekeys,
/// so one caller must not drain everyone's.
/// </summary>
public sealed class BundleClaimLimiter(int perMinute)
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(user =>
        RateLimitPartition.GetTokenBucketLimiter(user, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = perMinute,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));

    public bool TryClaim(UserId caller)
    {
        using var lease = _limiter.AttemptAcquire(caller.Value);
        return lease.IsAcquired;
    }

    public IResult Refusal => ApiErrors.Result(ErrorCodes.RateLimited, $"at most {perMinute} bundle requests a minute");
}
