using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Natter.Actors.Notifications;

/// <summary>
/// Message Encryption for Web Push (RFC 8291) in the aes128gcm content coding (RFC 8188), one record: the push
/// service relays bytes only the subscribing browser opens. Per message a fresh P-256 key pair and salt:
/// <code>
/// IKM   = HKDF(salt = auth, ikm = ECDH(as, ua), info = "WebPush: info\0" || ua_public || as_public, 32)
/// CEK   = HKDF(salt, IKM, "Content-Encoding: aes128gcm\0", 16);  NONCE = HKDF(salt, IKM, "Content-Encoding: nonce\0", 12)
/// body  = salt (16) || rs = 4096 (u32) || 65 || as_public (65) || AES-128-GCM(CEK, NONCE, plaintext || 0x02)
/// </code>
/// </summary>
public static class WebPushEncryption
{
    public const int PublicKeySize = 65;
    public const int AuthSecretSize = 16;
    private const int RecordSize = 4096;
    private const int SaltSize = 16;
    private const int TagSize = 16;
    private const int HeaderSize = SaltSize + 4 + 1 + PublicKeySize;

    /// <summary>The largest plaintext whose whole body stays within the 4096 bytes push services must take (RFC 8291 §4: 3993).</summary>
    public const int MaxPlaintext = RecordSize - HeaderSize - 1 - TagSize;

    /// <summary>Refuses what is not a subscription's keys: an uncompressed point on P-256, a 16-byte secret.</summary>
    public static void CheckSubscriptionKeys(ReadOnlySpan<byte> p256dh, ReadOnlySpan<byte> auth)
    {
        if (auth.Length != AuthSecretSize) throw new ArgumentException("'auth' is 16 bytes");
        using var _ = ImportPublic(p256dh);
    }

    public static byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> uaPublic, ReadOnlySpan<byte> authSecret)
    {
        using var sender = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return Encrypt(plaintext, uaPublic, authSecret, sender, RandomNumberGenerator.GetBytes(SaltSize));
    }

    /// <summary>With a given sender key and salt: RFC 8291's example, and nothing else (both must be fresh per message).</summary>
    public static byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> uaPublic, ReadOnlySpan<byte> authSecret,
        ECDiffieHellman sender, ReadOnlySpan<byte> salt)
    {
        if (plaintext.Length > MaxPlaintext) throw new ArgumentException($"a Web Push payload is at most {MaxPlaintext} bytes");
        if (authSecret.Length != AuthSecretSize) throw new ArgumentException("'auth' is 16 bytes");
        if (salt.Length != SaltSize) throw new ArgumentException("the salt is 16 bytes");
        using var ua = ImportPublic(uaPublic);
        using var uaKey = ua.PublicKey;
        var asPublic = PublicBytes(sender);
        var (cek, nonce) = Keys(sender.DeriveRawSecretAgreement(uaKey), uaPublic, asPublic, authSecret, salt);

        var body = new byte[HeaderSize + plaintext.Length + 1 + TagSize];
        salt.CopyTo(body);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(SaltSize), RecordSize);
        body[SaltSize + 4] = PublicKeySize;
        asPublic.CopyTo(body, SaltSize + 5);
        var record = new byte[plaintext.Length + 1];
        plaintext.CopyTo(record);
        record[^1] = 0x02; // the last (and only) record, no padding
        using var aes = new AesGcm(cek, TagSize);
        aes.Encrypt(nonce, record, body.AsSpan(HeaderSize, record.Length), body.AsSpan(HeaderSize + record.Length));
        return body;
    }

    /// <summary>What the browser does with a push: for specs and for native receivers.</summary>
    public static byte[] Decrypt(ReadOnlySpan<byte> body, ECDiffieHellman receiver, ReadOnlySpan<byte> authSecret)
    {
        if (body.Length < HeaderSize + 1 + TagSize || body[SaltSize + 4] != PublicKeySize)
            throw new CryptographicException("not a one-record aes128gcm body with a P-256 key id");
        var salt = body[..SaltSize];
        var asPublic = body.Slice(SaltSize + 5, PublicKeySize);
        ECDiffieHellman sender;
        try { sender = ImportPublic(asPublic); }
        catch (ArgumentException e) { throw new CryptographicException("the key id is not a P-256 point", e); }
        using var _ = sender;
        using var senderKey = sender.PublicKey;
        var (cek, nonce) = Keys(receiver.DeriveRawSecretAgreement(senderKey), PublicBytes(receiver), asPublic, authSecret, salt);
        var ciphertext = body[HeaderSize..^TagSize];
        var record = new byte[ciphertext.Length];
        using var aes = new AesGcm(cek, TagSize);
        aes.Decrypt(nonce, ciphertext, body[^TagSize..], record);
        var end = Array.LastIndexOf(record, (byte)0x02);
        if (end < 0 || record.AsSpan(end + 1).IndexOfAnyExcept((byte)0) >= 0) throw new CryptographicException("no last-record delimiter");
        return record[..end];
    }

    private static (byte[] Cek, byte[] Nonce) Keys(byte[] ecdhSecret, ReadOnlySpan<byte> uaPublic, ReadOnlySpan<byte> asPublic,
        ReadOnlySpan<byte> authSecret, ReadOnlySpan<byte> salt)
    {
        var keyInfo = Concat("WebPush: info\0"u8, uaPublic, asPublic);
        var ikm = HKDF.DeriveKey(HashAlgorithmName.SHA256, ecdhSecret, 32, authSecret.ToArray(), keyInfo);
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, ikm, salt.ToArray());
        return (HKDF.Expand(HashAlgorithmName.SHA256, prk, 16, Encoding.ASCII.GetBytes("Content-Encoding: aes128gcm\0")),
            HKDF.Expand(HashAlgorithmName.SHA256, prk, 12, Encoding.ASCII.GetBytes("Content-Encoding: nonce\0")));
    }

    /// <summary>An uncompressed P-256 point (65 bytes) as a key; throws for anything else, a point off the curve included.</summary>
    internal static ECDiffieHellman ImportPublic(ReadOnlySpan<byte> point)
    {
        if (point.Length != PublicKeySize || point[0] != 0x04) throw new ArgumentException("'p256dh' is an uncompressed P-256 point (65 bytes)");
        // ImportParameters checks that the point is on the curve.
        return ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = point[1..33].ToArray(), Y = point[33..].ToArray() },
        });
    }

    private static byte[] PublicBytes(ECDiffieHellman key)
    {
        var q = key.ExportParameters(false).Q;
        return Concat([0x04], q.X, q.Y);
    }

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c)
    {
        var result = new byte[a.Length + b.Length + c.Length];
        a.CopyTo(result);
        b.CopyTo(result.AsSpan(a.Length));
        c.CopyTo(result.AsSpan(a.Length + b.Length));
        return result;
    }
}
