using System.Security.Cryptography;
using System.Text;

namespace Natter.Client.Crypto;

/// <summary>
/// A message body, encrypted once for all recipients: 0x01 || ChaCha20-Poly1305(content key, nonce = 12 zero
/// bytes, ad = UTF-8(chatId), plaintext). The fixed nonce is safe because a content key seals one body only;
/// the content key itself travels to each device inside its envelope.
/// </summary>
public static class MessageBody
{
    public const byte Version = 0x01;
    public const int ContentKeySize = 32;

    private static readonly byte[] Nonce = new byte[Aead.NonceSize];

    /// <summary>The body under a fresh random content key, and that key.</summary>
    public static (byte[] Body, byte[] ContentKey) Encrypt(string chatId, ReadOnlySpan<byte> plaintext)
    {
        var contentKey = RandomNumberGenerator.GetBytes(ContentKeySize);
        return (Encrypt(chatId, plaintext, contentKey), contentKey);
    }

    /// <summary>With a given content key (test vectors): never pass a key that already sealed another body.</summary>
    public static byte[] Encrypt(string chatId, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> contentKey)
    {
        CheckKey(contentKey);
        return Bytes.Concat([Version], Aead.Encrypt(contentKey, Nonce, Encoding.UTF8.GetBytes(chatId), plaintext));
    }

    /// <summary>The plaintext; <see cref="InvalidMessageException"/> for a wrong key, a wrong chat or a tampered body.</summary>
    public static byte[] Decrypt(string chatId, ReadOnlySpan<byte> body, ReadOnlySpan<byte> contentKey)
    {
        CheckKey(contentKey);
        if (body.IsEmpty || body[0] != Version) throw new InvalidMessageException("Not a version 1 message body.");
        return Aead.Decrypt(contentKey, Nonce, Encoding.UTF8.GetBytes(chatId), body[1..])
            ?? throw new InvalidMessageException("The message body does not decrypt: wrong key or chat, or tampered with.");
    }

    private static void CheckKey(ReadOnlySpan<byte> contentKey)
    {
        if (contentKey.Length != ContentKeySize) throw new ArgumentException("A content key is 32 bytes.", nameof(contentKey));
    }
}
