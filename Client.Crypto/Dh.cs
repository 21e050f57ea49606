using NSec.Cryptography;

namespace Natter.Client.Crypto;

/// <summary>X25519 agreement returning the raw 32-byte output, which X3DH and the ratchet feed into HKDF.</summary>
internal static class Dh
{

    /// <summary>Null when the public key is malformed or of low order (the output would be all zeros).</summary>
    public static byte[]? Agree(X25519KeyPair own, ReadOnlySpan<byte> remotePublic)
    {
        if (remotePublic.Length != X25519KeyPair.KeySize) return null;
        if (!PublicKey.TryImport(KeyAgreementAlgorithm.X25519, remotePublic, KeyBlobFormat.RawPublicKey, out var remote) || remote is null)
            return null;
        using var key = own.ToAgreementKey();
        using var secret = KeyAgreementAlgorithm.X25519.Agree(key, remote, new SharedSecretCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return secret?.Export(SharedSecretBlobFormat.RawSharedSecret);
    }
}
