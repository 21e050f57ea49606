using System.Security.Cryptography;
using System.Text;
using Natter.Messages;

namespace Natter.Cluster.Edge.Auth;

/// <summary>Who a valid access token speaks for.</summary>
public sealed record DevicePrincipal(UserId User, DeviceId Device, DateTimeOffset ExpiresAt);

/// <summary>
/// Signed, expiring per-device access tokens: "v1.{user}.{device}.{expiresUnixSeconds}.{hmac}" with the
/// HMAC-SHA256 (base64url) of everything before the last dot. Stateless, so every edge can check them.
/// </summary>
public sealed class AccessTokens(byte[] key, TimeProvider clock)
{
    private const string Version = "v1";

    public (string Token, DateTimeOffset ExpiresAt) Issue(UserId user, DeviceId device, TimeSpan lifetime)
    {
        var expiresAt = clock.GetUtcNow().Add(lifetime);
        var payload = $"{Version}.{user.Value}.{device.Value}.{expiresAt.ToUnixTimeSeconds()}";
        return ($"{payload}.{Sign(payload)}", DateTimeOffset.FromUnixTimeSeconds(expiresAt.ToUnixTimeSeconds()));
    }

    /// <summary>The principal, or null with the reason the token is refused.</summary>
    public (DevicePrincipal? Principal, string? Refusal) Validate(string? token)
    {
        if (string.IsNullOrEmpty(token)) return (null, "no access token");
        var cut = token.LastIndexOf('.');
        if (cut <= 0) return (null, "malformed access token");
        var payload = token[..cut];
        var expected = Encoding.ASCII.GetBytes(Sign(payload));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(token[(cut + 1)..])))
            return (null, "invalid access token signature");

        var parts = payload.Split('.');
        if (parts.Length != 4 || parts[0] != Version
            || !int.TryParse(parts[2], out var device) || !long.TryParse(parts[3], out var expires))
            return (null, "malformed access token");
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(expires);
        if (expiresAt <= clock.GetUtcNow()) return (null, "access token expired");
        return (new DevicePrincipal(new UserId(parts[1]), new DeviceId(device), expiresAt), null);
    }

    private string Sign(string payload) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(payload)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
