namespace Natter.Cluster.Edge.Auth;

/// <summary>
/// The access token of a request: "Authorization: Bearer ..." or, for browsers (which cannot set
/// headers on a WebSocket upgrade), the access_token query parameter.
/// </summary>
public static class BearerToken
{
    public static string? From(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header["Bearer ".Length..].Trim();
        var query = context.Request.Query["access_token"].ToString();
        return string.IsNullOrEmpty(query) ? null : query;
    }
}
