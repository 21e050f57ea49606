using Natter.Cluster.Edge.Auth;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge;

/// <summary>Every /api route but registration requires a valid device token; the principal is then on the request.</summary>
public static class DeviceAuthentication
{
    private const string Key = "natter.principal";

    public static RouteGroupBuilder RequireDevice(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var (principal, refusal) = await http.RequestServices.GetRequiredService<DeviceAdmission>().AdmitAsync(BearerToken.From(http));
            if (refusal is var (code, message))
            {
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Natter.Auth")
                    .LogWarning("Refused {Method} {Path}: {Reason}", http.Request.Method, http.Request.Path, message);
                return ApiErrors.Result(code, message);
            }
            http.Items[Key] = principal;
            return await next(context);
        });
        return group;
    }

    public static DevicePrincipal Principal(this HttpContext context) => (DevicePrincipal)context.Items[Key]!;
}
