using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Natter.Actors.Hosting;

/// <summary>
/// Ready once this node is an Up member of the cluster (shard regions can then place entities). Before that (not yet
/// joined, joining) it is Degraded: every start passes through it, so it is logged as a warning, not as an error, and
/// the readiness probe answers it 503 all the same (<see cref="ReadinessStatusCodes"/>). A member on its way out
/// (leaving, exiting, downed) or shut down is Unhealthy.
/// </summary>
public sealed class ClusterHealthCheck(ActorSystem system) : IHealthCheck
{
    /// <summary>Only Up is ready: a Degraded (still joining) node takes no traffic either.</summary>
    public static Dictionary<HealthStatus, int> ReadinessStatusCodes => new()
    {
        [HealthStatus.Healthy] = 200,
        [HealthStatus.Degraded] = 503,
        [HealthStatus.Unhealthy] = 503,
    };

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var status = cluster.SelfMember.Status;
        // Before it joins, a member reads as Removed too; one that was removed has shut its cluster down.
        var starting = status is MemberStatus.Joining or MemberStatus.WeaklyUp || status == MemberStatus.Removed && !cluster.IsTerminated;
        return Task.FromResult(status == MemberStatus.Up ? HealthCheckResult.Healthy("cluster member is Up")
            : starting ? HealthCheckResult.Degraded($"cluster member is {(status == MemberStatus.Removed ? "not joined yet" : status.ToString())}")
            : HealthCheckResult.Unhealthy($"cluster member is {status}"));
    }
}
