using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Natter.Actors.Hosting;

/// <summary>
/// Ready once this node is an Up member of the cluster (shard regions can then place entities). Until it first is (not
/// joined yet, joining) it is Degraded: every start passes through it, so it is logged as a warning, not as an error,
/// and the readiness probe answers it 503 all the same (<see cref="ReadinessStatusCodes"/>). A member that was Up and
/// no longer is (leaving, exiting, downed, removed) is Unhealthy. One instance per process (a DI singleton): it
/// remembers whether the member was ever Up.
/// </summary>
public sealed class ClusterHealthCheck : IHealthCheck
{
    private readonly Akka.Cluster.Cluster _cluster;
    private volatile bool _wasUp;

    public ClusterHealthCheck(ActorSystem system)
    {
        _cluster = Akka.Cluster.Cluster.Get(system);
        _cluster.RegisterOnMemberUp(() => _wasUp = true);
    }

    /// <summary>Only Up is ready: a Degraded (still joining) node takes no traffic either.</summary>
    public static Dictionary<HealthStatus, int> ReadinessStatusCodes => new()
    {
        [HealthStatus.Healthy] = 200,
        [HealthStatus.Degraded] = 503,
        [HealthStatus.Unhealthy] = 503,
    };

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = _cluster.SelfMember.Status;
        return Task.FromResult(status == MemberStatus.Up ? HealthCheckResult.Healthy("cluster member is Up")
            // Before it joins, a member reads as Removed.
            : !_wasUp ? HealthCheckResult.Degraded($"cluster member is {(status == MemberStatus.Removed ? "not joined yet" : status.ToString())}")
            : HealthCheckResult.Unhealthy($"cluster member is {status}"));
    }
}
