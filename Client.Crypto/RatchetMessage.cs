namespace Natter.Client.Crypto;

/// <summary>One Double Ratchet message. On the wire: 0x02 || header (40) || ChaCha20-Poly1305 ciphertext with its tag.</summary>
public sealed record RatchetMessage(RatchetHeader Header, byte[] Ciphertext)
{
    public const byte Type = 0x02;
    private const int MinSize = 1 + RatchetHeader.Size + Aead.TagSize;

    public byte[] ToBytes() => Bytes.Concat([Type], Header.ToBytes(), Ciphertext);

    public static RatchetMessage Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < MinSize || bytes[0] != Type) throw new InvalidMessageException("Not a ratchet message.");
        return new RatchetMessage(RatchetHeader.Parse(bytes[1..(1 + RatchetHeader.Size)]), bytes[(1 + RatchetHeader.Size)..].ToArray());
    }
}
