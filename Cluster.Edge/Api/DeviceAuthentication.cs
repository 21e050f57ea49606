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
            var tokens = http.RequestServices.GetRequiredService<AccessTokens>();
            var (principal, refusal) = tokens.Validate(BearerToken.From(http));
            if (principal is null)
            {
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Natter.Auth")
                    .LogWarning("Refused {Method} {Path}: {Reason}", http.Request.Method, http.Request.Path, refusal);
                return ApiErrors.Result(ErrorCodes.Unauthorized, refusal!);
            }
            if (await http.RequestServices.GetRequiredService<Natter.Actors.Services.UserGateway>().DeviceRefusalAsync(principal.User, principal.Device)
                is var (code, message))
                return ApiErrors.Result(code, message);
            http.Items[Key] = principal;
            return await next(context);
        });
        return group;
    }

    public static DevicePrincipal Principal(this HttpContext context) => (DevicePrincipal)context.Items[Key]!;
}
