namespace Natter.Cluster.Edge.Auth;

/// <summary>
/// The access token of a request: "Authorization: Bearer ..." or, on a WebSocket upgrade only (browsers
/// cannot set headers there), the access_token query parameter. Elsewhere a token in a link would let a
/// page act as whoever made the link.
/// </summary>
public static class BearerToken
{
    public static string? From(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header["Bearer ".Length..].Trim();
        if (!context.WebSockets.IsWebSocketRequest) return null;
        var query = context.Request.Query["access_token"].ToString();
        return string.IsNullOrEmpty(query) ? null : query;
    }
}
