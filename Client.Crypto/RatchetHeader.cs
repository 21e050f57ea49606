namespace Natter.Client.Crypto;

/// <summary>
/// The Double Ratchet header, sent in clear and authenticated as associated data (40 bytes):
/// sender's ratchet public key (32) || u32(PN, length of its previous sending chain) || u32(N, number in this chain).
/// </summary>
public sealed record RatchetHeader(byte[] RatchetKey, uint PreviousChainLength, uint MessageNumber)
{
    public const int Size = 32 + 4 + 4;

    public byte[] ToBytes() => Bytes.Concat(RatchetKey, Bytes.U32(PreviousChainLength), Bytes.U32(MessageNumber));

    public static RatchetHeader Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) throw new InvalidMessageException("A ratchet header is 40 bytes.");
        return new RatchetHeader(bytes[..32].ToArray(), Bytes.ReadU32(bytes[32..]), Bytes.ReadU32(bytes[36..]));
    }
}
