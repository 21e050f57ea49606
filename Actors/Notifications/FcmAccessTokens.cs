using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Natter.Actors.Notifications;

/// <summary>
/// OAuth 2.0 access tokens for FCM's HTTP v1 API, from a Google service account's key file: an RS256 JWT assertion
/// (RFC 7523) traded at the account's token_uri for a bearer token of about an hour, reused for three quarters of its
/// life and traded again then, or at once when FCM refuses it (401). One trade at a time, however many pushes wait.
/// </summary>
public sealed class FcmAccessTokens
{
    public const string Scope = "https://www.googleapis.com/auth/firebase.messaging";
    private static readonly TimeSpan AssertionLifetime = TimeSpan.FromHours(1);

    private readonly HttpClient _http;
    private readonly ServiceAccount _account;
    private readonly RSA _key;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _trading = new(1, 1);
    // Replaced whole, so readers outside the trade see a token and its renewal time together.
    private Traded? _current;

    private FcmAccessTokens(HttpClient http, ServiceAccount account, RSA key, TimeProvider clock)
    {
        _http = http;
        _account = account;
        _key = key;
        _clock = clock;
    }

    /// <summary>The project the service account belongs to: where messages are sent unless FcmProject says otherwise.</summary>
    public string ProjectId => _account.ProjectId;

    /// <summary>The service account key file configured; null when none is. Throws, naming the setting, on a file that is not one.</summary>
    public static FcmAccessTokens? From(PushEndpoints endpoints, HttpClient http, TimeProvider clock)
    {
        if (string.IsNullOrWhiteSpace(endpoints.FcmServiceAccountFile)) return null;
        ServiceAccount? account;
        try
        {
            account = JsonSerializer.Deserialize<ServiceAccount>(File.ReadAllText(endpoints.FcmServiceAccountFile));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Natter:Notifications:Push:FcmServiceAccountFile ({endpoints.FcmServiceAccountFile}) is not a readable JSON key file: {e.Message}", e);
        }
        if (account is not { Type: "service_account", ClientEmail.Length: > 0, PrivateKey.Length: > 0, TokenUri.Length: > 0, ProjectId.Length: > 0 }
            || !Uri.TryCreate(account.TokenUri, UriKind.Absolute, out _))
            throw new InvalidOperationException($"Natter:Notifications:Push:FcmServiceAccountFile ({endpoints.FcmServiceAccountFile}) is not a service account key "
                                                + "(type service_account, with project_id, client_email, private_key and token_uri), as the Firebase console downloads it");
        var key = RSA.Create();
        try
        {
            key.ImportFromPem(account.PrivateKey);
            // A public key's PEM imports too, and would fail only at the first push.
            key.ExportParameters(includePrivateParameters: true);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new InvalidOperationException($"Natter:Notifications:Push:FcmServiceAccountFile ({endpoints.FcmServiceAccountFile}): its private_key is not an RSA private key in PEM", e);
        }
        return new FcmAccessTokens(http, account, key, clock);
    }

    /// <summary>A bearer token with some life left: the one held, or a new one traded for.</summary>
    public async Task<string> CurrentAsync(CancellationToken ct)
    {
        if (Held() is { } held) return held;
        await _trading.WaitAsync(ct);
        try
        {
            // Another caller may have traded while this one waited.
            if (Held() is { } traded) return traded;
            var issuedAt = _clock.GetUtcNow();
            var (token, lifetime) = await TradeAsync(issuedAt, ct);
            Volatile.Write(ref _current, new Traded(token, issuedAt + lifetime * 3 / 4));
            return token;
        }
        finally
        {
            _trading.Release();
        }
    }

    /// <summary>FCM refused <paramref name="refused"/> (revoked, or expired early): the next caller trades for another.</summary>
    public void Refused(string refused)
    {
        if (Volatile.Read(ref _current) is { } current && current.Token == refused) Interlocked.CompareExchange(ref _current, null, current);
    }

    private string? Held() => Volatile.Read(ref _current) is { } current && _clock.GetUtcNow() < current.RenewAt ? current.Token : null;

    private sealed record Traded(string Token, DateTimeOffset RenewAt);

    private async Task<(string Token, TimeSpan Lifetime)> TradeAsync(DateTimeOffset now, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _account.TokenUri)
        {
            Content = new FormUrlEncodedContent([
                new("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                new("assertion", Assertion(now)),
            ]),
        };
        using var response = await _http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            // 400 invalid_grant is a revoked key or a clock far off; worth a line in the log, not a stack.
            var error = await response.Content.ReadAsStringAsync(ct);
            throw new HttpRequestException($"the token endpoint refused the service account {_account.ClientEmail}: {(int)response.StatusCode} {Truncated(error)}",
                null, response.StatusCode);
        }
        TokenAnswer? answer;
        try { answer = await response.Content.ReadFromJsonAsync<TokenAnswer>(ct); }
        catch (JsonException) { answer = null; }
        // Not an HttpRequestException: an answer of the wrong shape will not mend on a retry.
        if (answer is not { AccessToken.Length: > 0, ExpiresIn: > 0 })
            throw new InvalidOperationException($"the token endpoint {_account.TokenUri} answered without an access_token and expires_in");
        return (answer.AccessToken, TimeSpan.FromSeconds(answer.ExpiresIn));
    }

    private string Assertion(DateTimeOffset now)
    {
        var header = new Dictionary<string, string> { ["alg"] = "RS256", ["typ"] = "JWT" };
        if (_account.PrivateKeyId is { Length: > 0 } keyId) header["kid"] = keyId;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = _account.ClientEmail,
            ["scope"] = Scope,
            ["aud"] = _account.TokenUri,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = (now + AssertionLifetime).ToUnixTimeSeconds(),
        };
        return JsonWebTokens.Sign(header, claims, input => _key.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    private static string Truncated(string text) => text.Length <= 300 ? text : text[..300] + "...";

    /// <summary>The fields of a Google service account key file that the trade needs.</summary>
    public sealed record ServiceAccount(
        [property: JsonPropertyName("type")] string? Type,
        [property: JsonPropertyName("project_id")] string ProjectId,
        [property: JsonPropertyName("private_key_id")] string? PrivateKeyId,
        [property: JsonPropertyName("private_key")] string PrivateKey,
        [property: JsonPropertyName("client_email")] string ClientEmail,
        [property: JsonPropertyName("token_uri")] string TokenUri);

    private sealed record TokenAnswer(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("expires_in")] int ExpiresIn);
}
