using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Natter.Actors.Hosting;
using Natter.Actors.Notifications;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>
/// VAPID keys (RFC 8292) for Web Push: read from either form operators have, checked at start-up, and the tokens
/// they sign. The signed request itself reaching a push service is NotificationSpecs' (integration tests).
/// </summary>
public sealed class VapidKeysSpecs
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private const string Contact = "mailto:push-ops@natter.example";

    [Fact]
    public void A_pem_key_and_its_raw_base64url_scalar_give_the_same_public_key_the_uncompressed_point()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = key.ExportParameters(includePrivateParameters: true);
        var expected = Base64Url.EncodeToString([0x04, .. parameters.Q.X!, .. parameters.Q.Y!]);

        var fromPem = VapidKeys.From(new PushEndpoints { WebPushVapidPrivateKey = key.ExportECPrivateKeyPem(), WebPushVapidSubject = Contact })!;
        var fromScalar = VapidKeys.From(new PushEndpoints { WebPushVapidPrivateKey = Base64Url.EncodeToString(parameters.D), WebPushVapidSubject = Contact })!;

        Assert.Equal(expected, fromPem.PublicKey);
        Assert.Equal(expected, fromScalar.PublicKey);
        Assert.Equal(expected, VapidKeys.PublicKeyFrom(new PushEndpoints { WebPushVapidPrivateKey = key.ExportECPrivateKeyPem(), WebPushVapidSubject = Contact }));
        Assert.Null(VapidKeys.From(new PushEndpoints()));
        Assert.Null(VapidKeys.PublicKeyFrom(new PushEndpoints()));
    }

    [Fact]
    public void A_token_is_for_the_push_services_origin_reused_until_half_its_life_and_verifies_with_the_public_key()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var vapid = VapidKeys.From(new PushEndpoints { WebPushVapidPrivateKey = key.ExportECPrivateKeyPem(), WebPushVapidSubject = "https://natter.example/contact" })!;
        var endpoint = new Uri("https://push.example.net:8443/wpush/v2/subscription-abc");

        var first = vapid.AuthorizationFor(endpoint, Now);
        var (token, publicKey) = Parse(first);
        Assert.Equal(vapid.PublicKey, publicKey);
        var claims = VerifiedClaims(key, token);
        Assert.Equal("https://push.example.net:8443", claims.GetProperty("aud").GetString());
        Assert.Equal("https://natter.example/contact", claims.GetProperty("sub").GetString());
        Assert.Equal((Now + VapidKeys.TokenLifetime).ToUnixTimeSeconds(), claims.GetProperty("exp").GetInt64());

        Assert.Same(first, vapid.AuthorizationFor(new Uri("https://push.example.net:8443/wpush/v2/other"), Now + VapidKeys.TokenLifetime / 2 - TimeSpan.FromSeconds(1)));
        var renewed = vapid.AuthorizationFor(endpoint, Now + VapidKeys.TokenLifetime / 2);
        Assert.NotEqual(first, renewed);
        Assert.Equal((Now + VapidKeys.TokenLifetime * 1.5).ToUnixTimeSeconds(), VerifiedClaims(key, Parse(renewed).Token).GetProperty("exp").GetInt64());

        var elsewhere = VerifiedClaims(key, Parse(vapid.AuthorizationFor(new Uri("https://fcm.googleapis.com/fcm/send/x"), Now)).Token);
        Assert.Equal("https://fcm.googleapis.com", elsewhere.GetProperty("aud").GetString());
        // An origin is scheme, host and port: user info in a subscription's URL is not part of it.
        var withUser = VerifiedClaims(key, Parse(vapid.AuthorizationFor(new Uri("https://someone:secret@push.example.org/x"), Now)).Token);
        Assert.Equal("https://push.example.org", withUser.GetProperty("aud").GetString());
    }

    [Fact]
    public void Keys_and_subjects_that_cannot_be_used_stop_the_start()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var otherPublic = VapidKeys.From(new PushEndpoints { WebPushVapidPrivateKey = other.ExportECPrivateKeyPem(), WebPushVapidSubject = Contact })!.PublicKey;

        Refused(new PushEndpoints { WebPushVapidPrivateKey = "not a key", WebPushVapidSubject = Contact }, "not a P-256 private key");
        Refused(new PushEndpoints { WebPushVapidPrivateKey = key.ExportSubjectPublicKeyInfoPem(), WebPushVapidSubject = Contact }, "holds no private key");
        Refused(new PushEndpoints { WebPushVapidPrivateKey = p384.ExportECPrivateKeyPem(), WebPushVapidSubject = Contact }, "384-bit");
        foreach (var subject in new[] { null, "ops@natter.example", "mailto:", "https:", "http://natter.example/contact" })
            Refused(new PushEndpoints { WebPushVapidPrivateKey = key.ExportECPrivateKeyPem(), WebPushVapidSubject = subject }, "WebPushVapidSubject");
        Refused(new PushEndpoints { WebPushVapidPrivateKey = key.ExportECPrivateKeyPem(), WebPushVapidSubject = Contact, WebPushVapidPublicKey = otherPublic }, "not the private key's");
        // An edge holds only the public key, and that is checked too: its length, its form, and that it is on the curve.
        var offCurve = Base64Url.DecodeFromChars(otherPublic);
        offCurve[64] ^= 1;
        foreach (var bad in new[] { "AAAA", Base64Url.EncodeToString([0x02, .. Base64Url.DecodeFromChars(otherPublic)[1..]]), Base64Url.EncodeToString(offCurve) })
            Refused(new PushEndpoints { WebPushVapidPublicKey = bad }, "uncompressed P-256 point", edgeOnly: true);
        new NatterOptions { Roles = [NatterRoles.Edge], Notifications = new NotificationOptions { Push = new PushEndpoints { WebPushVapidPublicKey = otherPublic } } }
            .Validate();
    }

    private static void Refused(PushEndpoints push, string reason, bool edgeOnly = false)
    {
        var options = new NatterOptions { Roles = edgeOnly ? [NatterRoles.Edge] : [], Notifications = new NotificationOptions { Push = push } };
        Assert.Contains(reason, Assert.Throws<InvalidOperationException>(options.Validate).Message);
    }

    private static (string Token, string PublicKey) Parse(string authorization)
    {
        Assert.StartsWith("vapid ", authorization);
        var parts = authorization["vapid ".Length..].Split(", ").Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        return (parts["t"], parts["k"]);
    }

    private static JsonElement VerifiedClaims(ECDsa key, string token)
    {
        var jwt = token.Split('.');
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes(jwt[0] + "." + jwt[1]), Base64Url.DecodeFromChars(jwt[2]), HashAlgorithmName.SHA256));
        var header = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt[0])).RootElement;
        Assert.Equal("ES256", header.GetProperty("alg").GetString());
        return JsonDocument.Parse(Base64Url.DecodeFromChars(jwt[1])).RootElement;
    }
}
