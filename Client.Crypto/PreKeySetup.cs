namespace Natter.Client.Crypto;

/// <summary>
/// What a prekey message tells the responder so it can run X3DH: the initiator's identity keys, its
/// ephemeral (base) key and which of the responder's prekeys were used. On the wire (104 bytes):
/// IK_A (32) || IKdh_A (32) || EK_A (32) || u32(spkId) || u32(opkId, 0xFFFFFFFF when none).
/// </summary>
public sealed record PreKeySetup(byte[] IdentityKey, byte[] IdentityDhKey, byte[] BaseKey, uint SignedPreKeyId, uint? OneTimePreKeyId)
{
    public const int Size = 3 * 32 + 4 + 4;

    public byte[] ToBytes() =>
        Bytes.Concat(IdentityKey, IdentityDhKey, BaseKey, Bytes.U32(SignedPreKeyId), Bytes.U32(OneTimePreKeyId ?? OneTimePreKeyPair.NoneId));

    public static PreKeySetup Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) throw new InvalidMessageException("A prekey setup is 104 bytes.");
        var oneTimePreKeyId = Bytes.ReadU32(bytes[100..]);
        return new PreKeySetup(bytes[..32].ToArray(), bytes[32..64].ToArray(), bytes[64..96].ToArray(), Bytes.ReadU32(bytes[96..]),
            oneTimePreKeyId == OneTimePreKeyPair.NoneId ? null : oneTimePreKeyId);
    }
}
