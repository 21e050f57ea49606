using System.Security.Cryptography;

namespace Natter.Actors.Notifications;

/// <summary>
/// APNs token-based authentication: an ES256 JWT ({alg, kid} / {iss: team id, iat}) signed with the .p8 signing key
/// Apple issues. APNs refuses a token older than an hour (403 ExpiredProviderToken) and one replaced more often than
/// every 20 minutes (429 TooManyProviderTokenUpdates), so one token serves every push for 50 minutes.
/// </summary>
public sealed class ApnsProviderToken
{
    public static readonly TimeSpan Renewal = TimeSpan.FromMinutes(50);
    private static readonly TimeSpan MinUpdateInterval = TimeSpan.FromMinutes(20);

    private readonly ECDsa _key;
    private readonly string _keyId;
    private readonly string _teamId;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private (string Token, DateTimeOffset RenewAt)? _current;
    private DateTimeOffset _lastForced = DateTimeOffset.MinValue;

    public ApnsProviderToken(ECDsa key, string keyId, string teamId, TimeProvider clock)
    {
        _key = key;
        _keyId = keyId;
        _teamId = teamId;
        _clock = clock;
    }

    /// <summary>
    /// The configured signing key, key id and team id; null when none of the three is set. Throws, naming the
    /// setting, on a partial configuration or a key that is not a P-256 private key.
    /// </summary>
    public static ApnsProviderToken? From(PushEndpoints endpoints, TimeProvider clock)
    {
        var (file, keyId, teamId) = (endpoints.ApnsSigningKeyFile, endpoints.ApnsKeyId?.Trim(), endpoints.ApnsTeamId?.Trim());
        if (string.IsNullOrWhiteSpace(file) && string.IsNullOrEmpty(keyId) && string.IsNullOrEmpty(teamId)) return null;
        if (string.IsNullOrWhiteSpace(file) || string.IsNullOrEmpty(keyId) || string.IsNullOrEmpty(teamId))
            throw new InvalidOperationException("APNs needs Natter:Notifications:Push:ApnsSigningKeyFile, ApnsKeyId and ApnsTeamId together "
                                                + "(the .p8 key from Apple's developer account, its key id, and the team id)");
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(file));
            key.ExportParameters(includePrivateParameters: true);
            if (!P256Curve.Holds(key)) throw new CryptographicException("a key of another curve than P-256");
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            key.Dispose();
            throw new InvalidOperationException($"Natter:Notifications:Push:ApnsSigningKeyFile ({file}) is not a readable P-256 private key in PEM (.p8): {e.Message}", e);
        }
        return new ApnsProviderToken(key, keyId, teamId, clock);
    }

    /// <summary>The token to send now: the current one, or a new one once the current is 50 minutes old.</summary>
    public string Current()
    {
        var now = _clock.GetUtcNow();
        lock (_gate)
        {
            if (_current is { } current && now < current.RenewAt) return current.Token;
            var token = Sign(now);
            _current = (token, now + Renewal);
            return token;
        }
    }

    /// <summary>
    /// APNs called <paramref name="refused"/> expired (its clock ahead of ours): the next <see cref="Current"/> signs
    /// anew, unless a token was already forced out in the last 20 minutes (APNs refuses updates more often than that,
    /// and with a clock this far off a new token would not be taken either). True when one is signed anew.
    /// </summary>
    public bool Expired(string refused)
    {
        var now = _clock.GetUtcNow();
        lock (_gate)
        {
            if (_current?.Token != refused) return true;
            if (now - _lastForced < MinUpdateInterval) return false;
            _lastForced = now;
            _current = null;
            return true;
        }
    }

    private string Sign(DateTimeOffset now) =>
        JsonWebTokens.Sign(new { alg = "ES256", kid = _keyId }, new { iss = _teamId, iat = now.ToUnixTimeSeconds() },
            input => _key.SignData(input, HashAlgorithmName.SHA256));
}
