using Natter.Actors.Services;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge.Auth;

/// <summary>
/// Who may use the edge, over REST and WebSocket alike: the valid token of a device still on its account (a removed
/// device's token stops working at once). A cluster that did not answer is <c>unavailable</c>, not a refusal.
/// </summary>
public sealed class DeviceAdmission(AccessTokens tokens, UserGateway users)
{
    /// <summary>The device a token names, if admitted; otherwise the error code and message to answer.</summary>
    public async Task<(DevicePrincipal? Principal, (string Code, string Message)? Refusal)> AdmitAsync(string? token)
    {
        var (principal, refusal) = tokens.Validate(token);
        if (principal is null) return (null, (ErrorCodes.Unauthorized, refusal!));
        return await users.DeviceRefusalAsync(principal.User, principal.Device) is { } refused ? (null, refused) : (principal, null);
    }
}
