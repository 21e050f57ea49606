namespace Natter.Client.Crypto;

/// <summary>
/// A device's medium-term X25519 prekey with its private half, signed by the identity key.
/// (Named …Pair so it does not clash with the server's public <c>Natter.Messages.Users.SignedPreKey</c>.)
/// </summary>
public sealed class SignedPreKeyPair
{
    private SignedPreKeyPair(uint id, X25519KeyPair keyPair, byte[] signature)
    {
        Id = id;
        KeyPair = keyPair;
        Signature = signature;
    }

    public uint Id { get; }
    public byte[] PublicKey => KeyPair.PublicKey;

    /// <summary>Ed25519 over "natter-spk-v1" || u32(id) || public key.</summary>
    public byte[] Signature { get; }

    internal X25519KeyPair KeyPair { get; }

    public static SignedPreKeyPair Generate(uint id, IdentityKeyPair identity) => Sign(id, X25519KeyPair.Generate(), identity);

    public static SignedPreKeyPair FromPrivate(uint id, ReadOnlySpan<byte> privateKey, IdentityKeyPair identity) =>
        Sign(id, X25519KeyPair.FromPrivate(privateKey), identity);

    private static SignedPreKeyPair Sign(uint id, X25519KeyPair keyPair, IdentityKeyPair identity) =>
        new(id, keyPair, identity.Sign(KeySignatures.SignedPreKeyMessage(id, keyPair.PublicKey)));
}
