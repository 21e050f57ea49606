namespace Natter.Client.Crypto;

/// <summary>
/// A device's public identity: Ed25519 identity key, X25519 identity key and the signature binding them.
/// A responder needs it to trust a prekey message: the message carries both keys but not the signature.
/// </summary>
public sealed record DeviceIdentity(byte[] IdentityKey, byte[] IdentityDhKey, byte[] IdentityDhSignature)
{
    public bool IsValid() => KeySignatures.VerifyIdentityDh(IdentityKey, IdentityDhKey, IdentityDhSignature);

    internal bool Matches(ReadOnlySpan<byte> identityKey, ReadOnlySpan<byte> identityDhKey) =>
        identityKey.Length == IdentityKey.Length && identityDhKey.Length == IdentityDhKey.Length
        && Bytes.Equal(identityKey, IdentityKey) && Bytes.Equal(identityDhKey, IdentityDhKey);
}
