namespace Natter.Cluster.Edge.Auth;

/// <summary>Bound from Natter:Auth.</summary>
public sealed class AuthOptions
{
    /// <summary>
    /// Base64 HMAC-SHA256 key that signs access tokens; every edge of a cluster needs the same one (a
    /// Kubernetes secret). When empty, the embedded default creates one in the data directory.
    /// </summary>
    public string? SigningKey { get; set; }

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a device asking to be linked waits for an existing device's approval.</summary>
    public TimeSpan LinkLifetime { get; set; } = TimeSpan.FromMinutes(5);
}
