using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Natter.Actors.Notifications;
using Natter.Testing;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>APNs provider tokens: what they say, how long one serves, and the configuration they come from.</summary>
public sealed class ApnsProviderTokenSpecs : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ManualClock _clock = new();
    private readonly string _folder = TempDirectory.Create("apns-token");

    public void Dispose()
    {
        _key.Dispose();
        TempDirectory.Delete(_folder);
    }

    private ApnsProviderToken Token() => new(_key, "ABC123DEFG", "TEAM123456", _clock);

    [Fact]
    public void A_token_is_an_ES256_JWT_of_the_key_id_and_team_signed_with_the_key()
    {
        var parts = Token().Current().Split('.');

        Assert.True(_key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256));
        var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0])).RootElement;
        Assert.Equal("ES256", header.GetProperty("alg").GetString());
        Assert.Equal("ABC123DEFG", header.GetProperty("kid").GetString());
        var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1])).RootElement;
        Assert.Equal("TEAM123456", claims.GetProperty("iss").GetString());
        Assert.Equal(_clock.GetUtcNow().ToUnixTimeSeconds(), claims.GetProperty("iat").GetInt64());
    }

    [Fact]
    public void One_token_serves_for_fifty_minutes_and_a_new_one_is_signed_after()
    {
        var tokens = Token();
        var first = tokens.Current();

        _clock.Advance(TimeSpan.FromMinutes(49));
        Assert.Equal(first, tokens.Current());
        _clock.Advance(TimeSpan.FromMinutes(1));
        var second = tokens.Current();

        Assert.NotEqual(first, second);
        Assert.Equal(second, tokens.Current());
    }

    [Fact]
    public void A_token_APNs_calls_expired_is_replaced_at_once_but_not_again_within_twenty_minutes()
    {
        var tokens = Token();
        var first = tokens.Current();
        Assert.True(tokens.Expired(first));
        var second = tokens.Current();
        Assert.NotEqual(first, second);

        // A report of a token already replaced: the caller just retries with the current one.
        Assert.True(tokens.Expired(first));
        Assert.Equal(second, tokens.Current());

        // The fresh token refused too: the clock is off, and APNs would refuse a new one as a too frequent update.
        _clock.Advance(TimeSpan.FromMinutes(19));
        Assert.False(tokens.Expired(second));
        Assert.Equal(second, tokens.Current());
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(tokens.Expired(second));
        Assert.NotEqual(second, tokens.Current());
    }

    [Fact]
    public void Nothing_configured_is_no_APNs_and_a_partial_or_wrong_configuration_stops_the_start_naming_the_setting()
    {
        Assert.Null(ApnsProviderToken.From(new PushEndpoints(), _clock));

        var p8 = Path.Combine(_folder, "AuthKey.p8");
        File.WriteAllText(p8, _key.ExportPkcs8PrivateKeyPem());
        Assert.NotNull(ApnsProviderToken.From(new PushEndpoints { ApnsSigningKeyFile = p8, ApnsKeyId = "ABC123DEFG", ApnsTeamId = "TEAM123456" }, _clock));

        var partial = Assert.Throws<InvalidOperationException>(() => ApnsProviderToken.From(new PushEndpoints { ApnsSigningKeyFile = p8, ApnsKeyId = "ABC123DEFG" }, _clock));
        Assert.Contains("ApnsTeamId", partial.Message);

        var publicOnly = Path.Combine(_folder, "public.pem");
        File.WriteAllText(publicOnly, _key.ExportSubjectPublicKeyInfoPem());
        using var rsa = RSA.Create(2048);
        var rsaKey = Path.Combine(_folder, "rsa.p8");
        File.WriteAllText(rsaKey, rsa.ExportPkcs8PrivateKeyPem());
        using var k1 = ECDsa.Create(ECCurve.CreateFromFriendlyName("secP256k1"));
        var otherCurve = Path.Combine(_folder, "secp256k1.p8");
        File.WriteAllText(otherCurve, k1.ExportPkcs8PrivateKeyPem());
        foreach (var file in new[] { publicOnly, rsaKey, otherCurve, Path.Combine(_folder, "missing.p8") })
        {
            var wrong = Assert.Throws<InvalidOperationException>(() =>
                ApnsProviderToken.From(new PushEndpoints { ApnsSigningKeyFile = file, ApnsKeyId = "ABC123DEFG", ApnsTeamId = "TEAM123456" }, _clock));
            Assert.Contains("ApnsSigningKeyFile", wrong.Message);
        }
    }
}
