using NSec.Cryptography;

namespace Natter.Client.Crypto;

/// <summary>ChaCha20-Poly1305 with raw keys: 32-byte key, 12-byte nonce, 16-byte tag appended to the ciphertext.</summary>
internal static class Aead
{
    public const int KeySize = 32;
    public const int NonceSize = 12;
    public const int TagSize = 16;

    private static readonly AeadAlgorithm Algorithm = AeadAlgorithm.ChaCha20Poly1305;

    public static byte[] Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext)
    {
        using var aeadKey = Key.Import(Algorithm, key, KeyBlobFormat.RawSymmetricKey);
        return Algorithm.Encrypt(aeadKey, nonce, associatedData, plaintext);
    }

    /// <summary>The plaintext, or null when the ciphertext, nonce or associated data is not what was sealed.</summary>
    public static byte[]? Decrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext)
    {
        if (ciphertext.Length < TagSize) return null;
        using var aeadKey = Key.Import(Algorithm, key, KeyBlobFormat.RawSymmetricKey);
        var plaintext = new byte[ciphertext.Length - TagSize];
        return Algorithm.Decrypt(aeadKey, nonce, associatedData, ciphertext, plaintext) ? plaintext : null;
    }
}
