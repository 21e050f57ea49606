using System.Security.Cryptography;

namespace Natter.Client.Crypto;

/// <summary>
/// What a message's envelope carries: its content key and the SHA-256 of its body (docs/e2ee.md §4). The body is
/// encrypted under a key every recipient holds; only the sender's pairwise sessions can say which body is its.
/// </summary>
public static class MessageKeys
{
    public const int Size = MessageBody.ContentKeySize + 32;

    public static byte[] Seal(byte[] contentKey, byte[] body)
    {
        if (contentKey.Length != MessageBody.ContentKeySize) throw new ArgumentException("A content key is 32 bytes.", nameof(contentKey));
        return Bytes.Concat(contentKey, SHA256.HashData(body));
    }

    /// <summary>The content key, if the sealed hash is the body's; otherwise <see cref="InvalidMessageException"/>.</summary>
    public static byte[] Open(byte[] sealedKey, byte[] body)
    {
        if (sealedKey.Length != Size) throw new InvalidMessageException("an envelope carries a content key and a body hash");
        if (!Bytes.Equal(sealedKey.AsSpan(MessageBody.ContentKeySize), SHA256.HashData(body)))
            throw new InvalidMessageException("the body is not the one the sender sealed this key for");
        return sealedKey[..MessageBody.ContentKeySize];
    }
}
