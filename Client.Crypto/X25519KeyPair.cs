using NSec.Cryptography;

namespace Natter.Client.Crypto;

/// <summary>
/// An X25519 key pair held as raw bytes: devices must persist their keys and sessions, and raw bytes make
/// a session state cheap to copy (decryption works on a copy and commits only on success).
/// </summary>
public sealed class X25519KeyPair
{
    public const int KeySize = 32;


    private X25519KeyPair(byte[] publicKey, byte[] privateKey)
    {
        PublicKey = publicKey;
        PrivateKey = privateKey;
    }

    public byte[] PublicKey { get; }
    internal byte[] PrivateKey { get; }

    public static X25519KeyPair Generate()
    {
        using var key = Key.Create(KeyAgreementAlgorithm.X25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return new X25519KeyPair(key.PublicKey.Export(KeyBlobFormat.RawPublicKey), key.Export(KeyBlobFormat.RawPrivateKey));
    }

    /// <summary>From a stored (or, in tests, fixed) 32-byte private key.</summary>
    public static X25519KeyPair FromPrivate(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != KeySize) throw new ArgumentException("An X25519 private key is 32 bytes.", nameof(privateKey));
        using var key = Key.Import(KeyAgreementAlgorithm.X25519, privateKey, KeyBlobFormat.RawPrivateKey);
        return new X25519KeyPair(key.PublicKey.Export(KeyBlobFormat.RawPublicKey), privateKey.ToArray());
    }

    internal Key ToAgreementKey() => Key.Import(KeyAgreementAlgorithm.X25519, PrivateKey, KeyBlobFormat.RawPrivateKey);
}
