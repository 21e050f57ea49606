using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;

namespace Natter.Actors.Notifications;

/// <summary>
/// The application server's key pair for Web Push (VAPID, RFC 8292). A browser subscribes with the public key, and
/// its push service (Chrome's, for one) then takes only pushes that carry a short-lived ES256 token signed with the
/// private key, for that service's origin. Tokens are reused per origin until half their life has passed.
/// </summary>
public sealed class VapidKeys
{
    /// <summary>RFC 8292 allows at most 24 hours.</summary>
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(12);

    private readonly ECDsa _key;
    private readonly string? _subject;
    private readonly ConcurrentDictionary<string, (string Header, DateTimeOffset RenewAt)> _byOrigin = new();

    private VapidKeys(ECDsa key, string? subject)
    {
        _key = key;
        _subject = subject;
        PublicKey = PublicKeyOf(key);
    }

    /// <summary>The uncompressed P-256 point, base64url: what a browser passes as <c>applicationServerKey</c>.</summary>
    public string PublicKey { get; }

    /// <summary>The configured keys; null when Web Push runs without VAPID. Throws on a key or subject that is not usable.</summary>
    public static VapidKeys? From(PushEndpoints endpoints)
    {
        if (string.IsNullOrWhiteSpace(endpoints.WebPushVapidPrivateKey)) return null;
        if (endpoints.WebPushVapidSubject is { } subject && !subject.StartsWith("mailto:", StringComparison.Ordinal)
            && !subject.StartsWith("https:", StringComparison.Ordinal))
            throw new InvalidOperationException("Natter:Notifications:Push:WebPushVapidSubject must be a mailto: or https: URL (RFC 8292)");
        var keys = new VapidKeys(ImportPrivateKey(endpoints.WebPushVapidPrivateKey.Trim()), endpoints.WebPushVapidSubject);
        if (endpoints.WebPushVapidPublicKey is { Length: > 0 } configured && configured.Trim() != keys.PublicKey)
            throw new InvalidOperationException("Natter:Notifications:Push:WebPushVapidPublicKey is not the private key's public key");
        return keys;
    }

    /// <summary>The public key clients subscribe with: configured on its own (an edge holds no private key), or the private key's.</summary>
    public static string? PublicKeyFrom(PushEndpoints endpoints) =>
        endpoints.WebPushVapidPublicKey is { Length: > 0 } configured ? configured.Trim() : From(endpoints)?.PublicKey;

    /// <summary>The Authorization header's value for a push to <paramref name="endpoint"/>.</summary>
    public string AuthorizationFor(Uri endpoint, DateTimeOffset now)
    {
        var origin = endpoint.GetLeftPart(UriPartial.Authority);
        if (_byOrigin.TryGetValue(origin, out var cached) && now < cached.RenewAt) return cached.Header;
        var header = $"vapid t={Token(origin, now + TokenLifetime)}, k={PublicKey}";
        _byOrigin[origin] = (header, now + TokenLifetime / 2);
        return header;
    }

    private string Token(string audience, DateTimeOffset expires)
    {
        var claims = new Dictionary<string, object> { ["aud"] = audience, ["exp"] = expires.ToUnixTimeSeconds() };
        if (_subject is not null) claims["sub"] = _subject;
        var signingInput = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new { typ = "JWT", alg = "ES256" }))
                           + "." + Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(claims));
        // JWS takes ES256 signatures as r || s (IEEE P1363), .NET's default format.
        var signature = _key.SignData(System.Text.Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>
    /// A PEM key (as `openssl ecparam -name prime256v1 -genkey` writes it) or the raw 32-byte private scalar in
    /// base64url (as Web Push libraries' key generators print it).
    /// </summary>
    private static ECDsa ImportPrivateKey(string text)
    {
        var key = ECDsa.Create();
        try
        {
            if (text.StartsWith("-----BEGIN", StringComparison.Ordinal)) key.ImportFromPem(text);
            else key.ImportParameters(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = Base64Url.DecodeFromChars(text) });
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or FormatException)
        {
            key.Dispose();
            throw new InvalidOperationException("Natter:Notifications:Push:WebPushVapidPrivateKey is not a P-256 private key (PEM, or 32 bytes in base64url)", e);
        }
        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new InvalidOperationException($"Natter:Notifications:Push:WebPushVapidPrivateKey is a {key.KeySize}-bit key; VAPID takes P-256");
        }
        return key;
    }

    private static string PublicKeyOf(ECDsa key)
    {
        var q = key.ExportParameters(includePrivateParameters: false).Q;
        return Base64Url.EncodeToString([0x04, .. q.X!, .. q.Y!]);
    }
}

/// <summary>The VAPID public key an edge hands to browsers (GET /api/devices/push/webpush-key); null when not configured.</summary>
public sealed record WebPushApplicationKey(string? PublicKey);
