using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;

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

    // Origins come from users' subscriptions: past this many, the tokens kept are dropped and made again as needed.
    private const int MaxOrigins = 256;

    private readonly ECDsa _key;
    private readonly string _subject;
    private readonly ConcurrentDictionary<string, (string Header, DateTimeOffset RenewAt)> _byOrigin = new();

    private VapidKeys(ECDsa key, string subject)
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
        // Apple's push service refuses tokens without one; RFC 8292 asks for a contact.
        var subject = endpoints.WebPushVapidSubject?.Trim();
        if (!IsContact(subject))
            throw new InvalidOperationException("Natter:Notifications:Push:WebPushVapidSubject must be a mailto: address or an https: URL (RFC 8292), "
                                                + "so push services can reach the operator; it is required with a VAPID key");
        var keys = new VapidKeys(ImportPrivateKey(endpoints.WebPushVapidPrivateKey.Trim()), subject!);
        if (endpoints.WebPushVapidPublicKey is { Length: > 0 } configured && configured.Trim() != keys.PublicKey)
            throw new InvalidOperationException("Natter:Notifications:Push:WebPushVapidPublicKey is not the private key's public key");
        return keys;
    }

    /// <summary>The public key clients subscribe with: configured on its own (an edge holds no private key), or the private key's.</summary>
    public static string? PublicKeyFrom(PushEndpoints endpoints) =>
        endpoints.WebPushVapidPublicKey is { Length: > 0 } configured ? configured.Trim() : From(endpoints)?.PublicKey;

    /// <summary>Throws unless <paramref name="publicKey"/> is an uncompressed point of P-256 in base64url.</summary>
    public static void CheckPublicKey(string publicKey)
    {
        try
        {
            using var _ = WebPushEncryption.ImportPublic(Base64Url.DecodeFromChars(publicKey));
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException("Natter:Notifications:Push:WebPushVapidPublicKey is not an uncompressed P-256 point in base64url (65 bytes)", e);
        }
    }

    private static bool IsContact(string? subject) =>
        Uri.TryCreate(subject, UriKind.Absolute, out var uri)
        && (uri.Scheme == "mailto" && subject!.Length > "mailto:".Length || uri.Scheme == "https" && uri.Host.Length > 0);

    /// <summary>The Authorization header's value for a push to <paramref name="endpoint"/>.</summary>
    public string AuthorizationFor(Uri endpoint, DateTimeOffset now)
    {
        // Scheme, host and port: no user info, path or query.
        var origin = endpoint.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);
        if (_byOrigin.TryGetValue(origin, out var cached) && now < cached.RenewAt) return cached.Header;
        var header = $"vapid t={Token(origin, now + TokenLifetime)}, k={PublicKey}";
        if (_byOrigin.Count >= MaxOrigins) _byOrigin.Clear();
        _byOrigin[origin] = (header, now + TokenLifetime / 2);
        return header;
    }

    private string Token(string audience, DateTimeOffset expires)
    {
        var claims = new Dictionary<string, object> { ["aud"] = audience, ["exp"] = expires.ToUnixTimeSeconds(), ["sub"] = _subject };
        return JsonWebTokens.Sign(new { typ = "JWT", alg = "ES256" }, claims, input => _key.SignData(input, HashAlgorithmName.SHA256));
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
        try { key.ExportParameters(includePrivateParameters: true); }
        catch (CryptographicException e)
        {
            // A public key's PEM imports too, and would fail only at the first push.
            key.Dispose();
            throw new InvalidOperationException("Natter:Notifications:Push:WebPushVapidPrivateKey holds no private key (a public key's PEM?)", e);
        }
        if (!P256Curve.Holds(key))
        {
            key.Dispose();
            throw new InvalidOperationException($"Natter:Notifications:Push:WebPushVapidPrivateKey is a {key.KeySize}-bit key of another curve; VAPID takes P-256");
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
