namespace Natter.Client.Crypto;

/// <summary>
/// What an initiator needs to start a session with one device, as the key directory hands it out.
/// (Named Device… so it does not clash with the server's <c>Natter.Messages.Users.PreKeyBundle</c>.)
/// </summary>
public sealed record DevicePreKeyBundle(
    string UserId,
    string DeviceId,
    byte[] IdentityKey,
    byte[] IdentityDhKey,
    byte[] IdentityDhSignature,
    uint SignedPreKeyId,
    byte[] SignedPreKey,
    byte[] SignedPreKeySignature,
    uint? OneTimePreKeyId,
    byte[]? OneTimePreKey)
{
    public DeviceAddress Address => new(UserId, DeviceId);
    public DeviceIdentity Identity => new(IdentityKey, IdentityDhKey, IdentityDhSignature);

    /// <summary>Both signatures verify and every key has its length; a one-time prekey comes with its id or not at all.</summary>
    public bool IsValid()
    {
        if (IdentityKey is not { Length: KeySignatures.PublicKeySize } || SignedPreKey is not { Length: KeySignatures.PublicKeySize })
            return false;
        var oneTimePreKeyShape = (OneTimePreKeyId, OneTimePreKey) switch
        {
            (null, null) => true,
            ({ } id, { Length: X25519KeyPair.KeySize }) => id != OneTimePreKeyPair.NoneId,
            _ => false,
        };
        return oneTimePreKeyShape
            && KeySignatures.VerifyIdentityDh(IdentityKey, IdentityDhKey, IdentityDhSignature)
            && KeySignatures.VerifySignedPreKey(IdentityKey, SignedPreKeyId, SignedPreKey, SignedPreKeySignature);
    }
}
