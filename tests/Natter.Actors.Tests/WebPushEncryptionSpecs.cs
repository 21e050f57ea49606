using System.Security.Cryptography;
using System.Text;
using Natter.Actors.Notifications;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>Web Push payload encryption against RFC 8291's own example, and what a browser would refuse.</summary>
public sealed class WebPushEncryptionSpecs
{
    // RFC 8291, Appendix A.
    private const string Plaintext = "When I grow up, I want to be a watermelon";
    private const string AsPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    private const string AsPublic = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    private const string UaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    private const string UaPublic = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    private const string Auth = "BTBZMqHH6r4Tts7J_aSIgg";
    private const string Salt = "DGv6ra1nlYgDCS1FRnbzlw";
    private const string Body = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    private static byte[] B64(string s) => Convert.FromBase64String(s.Replace('-', '+').Replace('_', '/') + new string('=', (4 - s.Length % 4) % 4));

    private static ECDiffieHellman Key(string privateKey, string publicKey)
    {
        var q = B64(publicKey);
        return ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = B64(privateKey),
            Q = new ECPoint { X = q[1..33], Y = q[33..] },
        });
    }

    [Fact]
    public void The_rfc_example_comes_out_byte_for_byte_and_opens_with_the_browser_s_key()
    {
        using var sender = Key(AsPrivate, AsPublic);
        var body = WebPushEncryption.Encrypt(Encoding.UTF8.GetBytes(Plaintext), B64(UaPublic), B64(Auth), sender, B64(Salt));

        Assert.Equal(B64(Body), body);
        using var browser = Key(UaPrivate, UaPublic);
        Assert.Equal(Plaintext, Encoding.UTF8.GetString(WebPushEncryption.Decrypt(body, browser, B64(Auth))));
    }

    [Fact]
    public void Every_push_has_its_own_sender_key_and_salt_and_only_the_subscriber_opens_it()
    {
        using var browser = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = browser.ExportParameters(false).Q;
        byte[] uaPublic = [0x04, .. q.X!, .. q.Y!];
        var auth = RandomNumberGenerator.GetBytes(16);

        var first = WebPushEncryption.Encrypt("same"u8, uaPublic, auth);
        var second = WebPushEncryption.Encrypt("same"u8, uaPublic, auth);
        Assert.NotEqual(first[..86], second[..86]);
        Assert.Equal("same", Encoding.UTF8.GetString(WebPushEncryption.Decrypt(first, browser, auth)));
        Assert.ThrowsAny<CryptographicException>(() => WebPushEncryption.Decrypt(first, browser, RandomNumberGenerator.GetBytes(16)));
        using var stranger = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        Assert.ThrowsAny<CryptographicException>(() => WebPushEncryption.Decrypt(first, stranger, auth));
    }

    [Fact]
    public void Keys_that_are_not_a_subscription_s_are_refused()
    {
        var point = B64(UaPublic);
        WebPushEncryption.CheckSubscriptionKeys(point, B64(Auth));
        Assert.ThrowsAny<Exception>(() => WebPushEncryption.CheckSubscriptionKeys(point[..33], B64(Auth)));
        var offCurve = point.ToArray();
        offCurve[64] ^= 0x01;
        Assert.ThrowsAny<Exception>(() => WebPushEncryption.CheckSubscriptionKeys(offCurve, B64(Auth)));
        Assert.ThrowsAny<Exception>(() => WebPushEncryption.CheckSubscriptionKeys(point, new byte[15]));
        Assert.Throws<ArgumentException>(() => WebPushEncryption.Encrypt(new byte[WebPushEncryption.MaxPlaintext + 1], point, B64(Auth)));
    }
}
