using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Natter.Testing;

namespace Natter.Integration.Tests.Infrastructure;

/// <summary>
/// What FCM's and APNs' stand-in checks credentials against, as Google and Apple do: a service account's RSA key
/// (its key file written for the server to read), the access tokens traded for its assertions, and an APNs .p8
/// signing key. Tokens can be revoked or called expired to make the server renew them.
/// </summary>
public sealed class ProviderCredentials : IDisposable
{
    public const string ClientEmail = "natter-push@natter-test.iam.gserviceaccount.com";
    public const string Project = "natter-test";
    public const string ApnsKeyId = "ABC123DEFG";
    public const string ApnsTeamId = "TEAM123456";

    private readonly RSA _serviceAccountKey = RSA.Create(2048);
    private readonly ECDsa _apnsKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly string _folder = TempDirectory.Create("push-credentials");
    private readonly ConcurrentDictionary<string, bool> _accessTokens = new();
    private readonly ConcurrentDictionary<string, bool> _expiredProviderTokens = new();
    private int _assertions;

    public ProviderCredentials(string tokenUri)
    {
        TokenUri = tokenUri;
        ServiceAccountFile = Path.Combine(_folder, "service-account.json");
        File.WriteAllText(ServiceAccountFile, JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["type"] = "service_account",
            ["project_id"] = Project,
            ["private_key_id"] = "key-1",
            ["private_key"] = _serviceAccountKey.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = ClientEmail,
            ["client_id"] = "1234567890",
            ["token_uri"] = tokenUri,
        }));
        ApnsSigningKeyFile = Path.Combine(_folder, "AuthKey_" + ApnsKeyId + ".p8");
        File.WriteAllText(ApnsSigningKeyFile, _apnsKey.ExportPkcs8PrivateKeyPem());
    }

    public string TokenUri { get; }
    public string ServiceAccountFile { get; }
    public string ApnsSigningKeyFile { get; }

    /// <summary>Access tokens traded so far.</summary>
    public int Trades => Volatile.Read(ref _assertions);

    /// <summary>How long a traded access token lives, in seconds (Google's: 3599).</summary>
    public int AccessTokenSeconds { get; set; } = 3599;

    /// <summary>The configuration that points a server at these credentials.</summary>
    public IDictionary<string, string?> Settings() => new Dictionary<string, string?>
    {
        ["Natter:Notifications:Push:FcmServiceAccountFile"] = ServiceAccountFile,
        ["Natter:Notifications:Push:ApnsSigningKeyFile"] = ApnsSigningKeyFile,
        ["Natter:Notifications:Push:ApnsKeyId"] = ApnsKeyId,
        ["Natter:Notifications:Push:ApnsTeamId"] = ApnsTeamId,
    };

    /// <summary>The token endpoint: a well-formed RS256 assertion of the service account buys an access token.</summary>
    public (int Status, object Body) Trade(IReadOnlyDictionary<string, string> form)
    {
        if (form.GetValueOrDefault("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || form.GetValueOrDefault("assertion") is not { } assertion)
            return (400, new { error = "unsupported_grant_type" });
        if (Verified(assertion, (input, signature) => _serviceAccountKey.VerifyData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
                is not (var header, var claims)
            || header.GetProperty("alg").GetString() != "RS256"
            || claims.GetProperty("iss").GetString() != ClientEmail
            || claims.GetProperty("aud").GetString() != TokenUri
            || claims.GetProperty("scope").GetString() != "https://www.googleapis.com/auth/firebase.messaging"
            || claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64() is <= 0 or > 3600
            // Google's check: not expired, not issued in the future (five minutes of skew allowed).
            || claims.GetProperty("exp").GetInt64() < DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 300
            || claims.GetProperty("iat").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 300)
            return (400, new { error = "invalid_grant", error_description = "Invalid JWT Signature." });
        var token = "ya29." + Guid.NewGuid().ToString("N");
        _accessTokens[token] = true;
        Interlocked.Increment(ref _assertions);
        return (200, new { access_token = token, expires_in = AccessTokenSeconds, token_type = "Bearer" });
    }

    /// <summary>FCM's check of "Authorization: Bearer ...": a token traded here and not revoked.</summary>
    public bool FcmAuthorized(string? authorization) =>
        authorization is { } value && value.StartsWith("Bearer ", StringComparison.Ordinal) && _accessTokens.TryGetValue(value["Bearer ".Length..], out var live) && live;

    /// <summary>Every access token traded so far stops working (FCM then answers 401).</summary>
    public void RevokeAccessTokens()
    {
        foreach (var token in _accessTokens.Keys) _accessTokens[token] = false;
    }

    /// <summary>APNs' check of "authorization: bearer ...": null when good, else APNs' reason.</summary>
    public string? ApnsRefusal(string? authorization)
    {
        if (authorization is not { } value || !value.StartsWith("bearer ", StringComparison.Ordinal)) return "MissingProviderToken";
        var token = value["bearer ".Length..];
        if (Verified(token, (input, signature) => _apnsKey.VerifyData(input, signature, HashAlgorithmName.SHA256)) is not (var header, var claims)
            || header.GetProperty("alg").GetString() != "ES256" || header.GetProperty("kid").GetString() != ApnsKeyId
            || claims.GetProperty("iss").GetString() != ApnsTeamId)
            return "InvalidProviderToken";
        if (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - claims.GetProperty("iat").GetInt64() > 3600 || _expiredProviderTokens.ContainsKey(token))
            return "ExpiredProviderToken";
        return null;
    }

    /// <summary>APNs calls every provider token used so far expired (as it does when the sender's clock runs behind).</summary>
    public void ExpireProviderTokensSeen(IEnumerable<string> authorizations)
    {
        foreach (var value in authorizations) _expiredProviderTokens[value["bearer ".Length..]] = true;
    }

    private static (JsonElement Header, JsonElement Claims)? Verified(string jwt, Func<byte[], byte[], bool> verify)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3) return null;
        try
        {
            if (!verify(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]))) return null;
            return (JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0])).RootElement, JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1])).RootElement);
        }
        catch (Exception e) when (e is FormatException or JsonException or CryptographicException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _serviceAccountKey.Dispose();
        _apnsKey.Dispose();
        TempDirectory.Delete(_folder);
    }
}
