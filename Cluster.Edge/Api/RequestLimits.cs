
namespace Natter.Cluster.Edge;

/// <summary>The per-user request limit on a group of authenticated routes (after <see cref="DeviceAuthentication.RequireDevice"/>).</summary>
public static class RequestLimits
{
    public static RouteGroupBuilder LimitRequestsPerUser(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var limiter = http.RequestServices.GetRequiredService<RequestLimiter>();
            if (limiter.Allows(http.Principal().User.Value)) return await next(context);
            http.Response.Headers.RetryAfter = "1";
            return limiter.Refusal;
        });
        return group;
    }
}
